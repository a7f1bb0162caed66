"""A redis-server with AOF (appendfsync everysec) killed with SIGKILL mid-run and restarted.

What must hold: every append acknowledged more than the fsync window (about 2 s, see
STACK-NOTES.md §6) before the kill is still there after the restart, and the same store object
(same client) goes on appending without the caller doing anything.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from resumeflow.domain.events import EventEnvelope
from resumeflow.eventstore.redis_client import create_redis
from resumeflow.eventstore.redis_streams import RedisStreamEventStore
from tests.factories import happy_history, received_payload
from tests.servers import RedisServer

pytestmark = pytest.mark.integration

FSYNC_WINDOW_S = 2.0
log = logging.getLogger(__name__)


async def test_acknowledged_appends_survive_kill9_and_the_store_reconnects(tmp_path: Path) -> None:
    server = RedisServer(
        tmp_path, config={"appendonly": "yes", "appendfsync": "everysec", "save": '""'}
    ).start()
    redis = create_redis(server.url)
    store = RedisStreamEventStore(redis, partitions=2, prefix="dur")
    acked: list[tuple[float, UUID]] = []
    stop = asyncio.Event()

    async def writer() -> None:
        while not stop.is_set():
            event = EventEnvelope.new(application_id=uuid4(), version=1, payload=received_payload())
            await store.append(event.application_id, [event], expected_version=0)
            acked.append((time.monotonic(), event.application_id))

    try:
        writers = [asyncio.create_task(writer()) for _ in range(4)]
        await asyncio.sleep(3.0)
        killed_at = time.monotonic()
        server.kill9()
        acked_before_kill = len(acked)
        await asyncio.sleep(0.5)  # the writers are now retrying inside redis-py
        await asyncio.to_thread(server.start)
        restarted_at = time.monotonic()
        await asyncio.sleep(1.0)
        stop.set()
        await asyncio.gather(*writers)  # no writer saw an error: they rode out the restart

        history = happy_history(stages=2)  # and the same store appends, checked, after the restart
        app = history[0].application_id
        await store.append(app, history[:1], expected_version=0)
        assert await store.append(app, history[1:], expected_version=1) == 3
        assert await store.read(app) == history

        present: set[UUID] = set()
        position: str | None = None
        while (page := await store.read_feed(after=position, limit=5000)).events:
            present.update(e.application_id for e in page.events)
            position = page.position
        safe = [a for t, a in acked if t < killed_at - FSYNC_WINDOW_S]
        window = [a for t, a in acked if killed_at - FSYNC_WINDOW_S <= t < killed_at]
        after = [a for t, a in acked if t >= restarted_at]
        assert len(safe) > 100 and len(after) > 100
        assert not [a for a in safe if a not in present]
        assert not [a for a in after if a not in present]
        lost = [a for a in window if a not in present]
        log.warning(
            "kill -9: %d acked before the kill (%d older than %.0f s), %d lost in the window, "
            "%d acked after the restart",
            acked_before_kill,
            len(safe),
            FSYNC_WINDOW_S,
            len(lost),
            len(after),
        )
    finally:
        await redis.aclose()
        server.stop()
