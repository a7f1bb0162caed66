"""Workers ride out a restart of Redis (broker and log) with applications in flight."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.tasks.conftest import SUCCESS_TYPES, Site
from tests.servers import RedisServer

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """This test's own durable server (AOF everysec, as production runs it): it restarts it."""
    with RedisServer.durable(tmp_path / "redis") as server:
        yield server


async def test_workers_reconnect_after_a_redis_restart_and_every_application_completes(
    site: Site, redis_server: RedisServer
) -> None:
    recovery: dict[str, Any] = {
        "visibility_timeout": 8,
        "unacked_restore_seconds": 1,
        "stage_timeout_seconds": 3,
        "task_soft_time_limit": 4,
        "task_time_limit": 5,
    }
    site.cloud.configure(gemini=1.5)  # parses still running when Redis goes away
    workers = [site.worker(name, **recovery) for name in ("a", "b")]
    ids = await site.submit(12)
    site.dispatch(ids)
    await site.wait_for(ids[0], "application.text_extracted", within=30)

    redis_server.stop()  # clean shutdown: the AOF is flushed
    await asyncio.sleep(2)
    redis_server.start()
    restarted = time.monotonic()

    histories = await site.wait_terminal(ids, within=90)

    for worker in workers:
        assert worker.process.poll() is None, f"a worker exited:\n{worker.output()[-3000:]}"
    assert "Unrecoverable error" not in "".join(w.output() for w in workers)
    for history in histories.values():
        # a stage whose call met the outage (the Gemini rate limit lives in Redis) is retried
        failures = [e.payload for e in history if e.type == "application.stage_failed"]
        assert all(f.retryable for f in failures), failures  # type: ignore[attr-defined]
        successes = Counter(e.type for e in history if e.type != "application.stage_failed")
        assert successes == Counter(SUCCESS_TYPES)
    # and the workers still take new work
    more = await site.submit(2)
    site.dispatch(more)
    await site.wait_terminal(more, within=30)
    assert time.monotonic() - restarted < 120
