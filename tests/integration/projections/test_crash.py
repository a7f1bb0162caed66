"""kill -9 the projector process mid-batch, restart it: every row equals the fold of its events."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.bootstrap.settings import Settings
from resumeflow.projections.projector import PROJECTION
from tests.integration.projections.helpers import (
    append_histories,
    caught_up,
    count,
    settings_env,
    store_of,
    wait_for,
)

pytestmark = pytest.mark.integration


class ProjectorProcess:
    """``resumeflow projector`` configured through the environment, as an operator runs it."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.env = os.environ | settings_env(settings)
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "resumeflow", "projector"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def projector(settings: Settings, tmp_path: Path) -> Iterator[ProjectorProcess]:
    process = ProjectorProcess(settings, tmp_path / "projector.log")
    yield process
    process.stop()


async def test_kill9_mid_batch_then_restart_leaves_every_row_equal_to_the_fold(
    engine: AsyncEngine, redis: Redis, settings: Settings, projector: ProjectorProcess
) -> None:
    store = store_of(redis, settings)
    histories = await append_histories(store, 1000)
    total = sum(len(h) for h in histories.values())
    projector.start()

    async def busy() -> bool:
        applied = await count(engine)
        if not 0 < applied < total // 2:
            return False
        pending = [await redis.xpending(k, PROJECTION) for k in store.feed_keys]
        return sum(int(p["pending"]) for p in pending) > 0

    await wait_for(busy, within=60, interval=0.01)
    projector.kill9()  # entries read but not acknowledged stay in the dead consumer's PEL
    pending = [await redis.xpending(k, PROJECTION) for k in store.feed_keys]
    assert sum(p["pending"] for p in pending) > 0, "the kill did not land mid-batch"
    assert await count(engine) < total

    histories |= await append_histories(store, 100)  # the log moves on while it is down
    projector.start()
    await wait_for(lambda: caught_up(engine, histories), within=90, interval=0.5)
    for key in store.feed_keys:
        assert (await redis.xpending(key, PROJECTION))["pending"] == 0
