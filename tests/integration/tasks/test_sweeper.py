"""The sweeper finds what a lost message left stuck, from the log, and leaves finished ones be."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.tasks.conftest import SUCCESS_TYPES, Site, env_of

pytestmark = pytest.mark.integration


async def test_the_periodic_sweep_completes_a_lost_application_and_not_a_finished_one(
    site: Site,
) -> None:
    worker = site.worker("s", beat=True, sweep_every_seconds=0.5, stuck_after_seconds=1.5)
    lost, finished = await site.submit(2)
    site.dispatch([finished])  # ``lost``: its producer died between the append and the send
    await site.wait_terminal([finished])

    histories = await site.wait_terminal([lost, finished], within=20)
    await asyncio.sleep(2.5)  # several more sweeps, past stuck_after again

    for application_id, history in histories.items():
        assert [e.type for e in history] == list(SUCCESS_TYPES)
        assert await site.types(application_id) == list(SUCCESS_TYPES)
    swept = [line for line in worker.output().splitlines() if "sweeper:" in line]
    assert len(swept) == 1 and "1 applications stuck before store" in swept[0], swept
    assert await site.runtime.redis.zcard(f"{site.settings.log.stream_prefix}:sweeper:open") == 0


async def test_resumeflow_sweep_sends_a_stuck_application_once(site: Site) -> None:
    site.worker("w")
    (lost,) = await site.submit(1)

    def sweep() -> dict[str, object]:
        done = subprocess.run(
            [str(Path(sys.executable).parent / "resumeflow"), "sweep", "--stuck-after=0", "--json"],
            env=os.environ | env_of(site.values),
            cwd=site.tmp,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        reply: dict[str, object] = json.loads(done.stdout)
        return reply

    assert sweep() == {"stuck_after_seconds": 0.0, "sent": {"store": 1}}
    (history,) = (await site.wait_terminal([lost])).values()
    assert [e.type for e in history] == list(SUCCESS_TYPES)
    assert sweep() == {"stuck_after_seconds": 0.0, "sent": {}}
