"""Real worker processes run submitted applications to the end, each stage's event once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections import Counter

import pytest

from tests.integration.tasks.conftest import SUCCESS_TYPES, TEXTRACT_POLLS, Site, env_of

pytestmark = pytest.mark.integration


async def test_applications_complete_with_every_stage_event_once(site: Site) -> None:
    site.worker("w1")
    ids = await site.submit(4)
    site.dispatch(ids)

    histories = await site.wait_terminal(ids)

    for application_id, history in histories.items():
        assert [e.type for e in history] == list(SUCCESS_TYPES)
        assert [e.version for e in history] == list(range(1, len(SUCCESS_TYPES) + 1))
        polls = await site.runtime.redis.get(
            f"{site.settings.log.stream_prefix}:sim:textract:{application_id.hex}-2"
        )
        assert (
            polls is not None and int(polls) == TEXTRACT_POLLS + 1
        )  # IN_PROGRESS twice, then text


async def test_celery_inspect_sees_the_worker_started_by_the_cli(site: Site) -> None:
    worker = site.worker("w1", cli=True, concurrency=4)
    node = f"w1-{site.settings.log.stream_prefix}@{socket.gethostname()}"

    def inspect(command: str) -> dict[str, object]:
        argv = ["celery", "-A", "resumeflow.tasks", "inspect", command, "--json"]
        done = subprocess.run(
            [sys.executable, "-m", *argv, f"--destination={node}", "--timeout=10"],
            env=os.environ | env_of(site.values),
            cwd=site.tmp,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        reply: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
        return reply

    stats = inspect("stats")
    assert list(stats) == [node]
    assert stats[node]["pool"]["implementation"].endswith("thread:TaskPool")  # type: ignore[index]
    assert stats[node]["pool"]["max-concurrency"] == 4  # type: ignore[index]
    assert inspect("active") == {node: []}
    ids = await site.submit(1)
    site.dispatch(ids)
    (history,) = (await site.wait_terminal(ids)).values()
    assert Counter(e.type for e in history) == Counter(SUCCESS_TYPES)
    assert worker.process.poll() is None
