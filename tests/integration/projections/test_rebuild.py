"""A rebuild from the archive equals the live projection row for row, and swaps in cleanly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.streams.rebuild import rebuild
from resumeflow.streams.redis_store import RedisStreamEventStore
from resumeflow.streams.settings import ProjectorSettings
from resumeflow.streams.tables import metadata, stage_timings
from tests.integration.projections.helpers import (
    append_histories,
    caught_up,
    expected_rows,
    live_rows,
    running,
    wait_for,
)

pytestmark = pytest.mark.integration


async def test_a_rebuild_equals_the_live_projection_row_for_row(
    engine: AsyncEngine, redis: Redis, settings: ProjectorSettings
) -> None:
    store = RedisStreamEventStore(
        redis, partitions=settings.stream_partitions, prefix=settings.stream_prefix
    )
    histories = await append_histories(store, 150, stages=4)
    histories |= await append_histories(store, 150)
    want = expected_rows(histories)
    total = sum(len(h) for h in histories.values())
    async with running(settings):
        await wait_for(lambda: caught_up(engine, histories))
    live = await live_rows(engine)
    live_timings = await live_rows(engine, stage_timings)
    seen: list[tuple[int, int]] = []
    report = await rebuild(engine, progress=lambda done, of: seen.append((done, of)), batch=100)
    assert report.events == total and report.applications == 300 and report.skipped_events == 0
    assert seen[-1] == (total, total) and len(seen) > 1
    assert await live_rows(engine) == live == want
    assert await live_rows(engine, stage_timings) == live_timings
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    assert diff == []  # the swapped-in tables carry the canonical names of every index
