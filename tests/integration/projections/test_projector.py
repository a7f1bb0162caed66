"""The projector on real Redis and Postgres: rows equal the fold; poison goes to dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from uuid import UUID, uuid4

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.bootstrap.projector import projector_runtime
from resumeflow.domain.events import EventEnvelope, Stage
from resumeflow.streams.redis_store import RedisStreamEventStore
from resumeflow.streams.settings import ProjectorSettings
from resumeflow.streams.tables import dead_letters, stage_timings
from resumeflow.streams.wire import FIELDS, encode_entry
from tests.factories import envelope, success_payload
from tests.integration.projections.helpers import (
    append_histories,
    caught_up,
    expected_rows,
    live_rows,
    running,
    wait_for,
)

pytestmark = pytest.mark.integration


def _store(redis: Redis, settings: ProjectorSettings) -> RedisStreamEventStore:
    return RedisStreamEventStore(
        redis, partitions=settings.stream_partitions, prefix=settings.stream_prefix
    )


async def test_every_row_equals_the_fold_of_its_events(
    engine: AsyncEngine, redis: Redis, settings: ProjectorSettings
) -> None:
    store = _store(redis, settings)
    before = await append_histories(store, 40, stages=3)  # appended before the groups exist
    async with running(settings):
        after = await append_histories(store, 40)
        histories = before | after
        await wait_for(lambda: caught_up(engine, histories))
    async with engine.connect() as conn:
        timings = (await conn.execute(select(stage_timings))).mappings().all()
    assert len(timings) == 40 * 3 + 40 * 6
    assert all(t["duration_ms"] >= 0 for t in timings)


async def test_a_poison_event_is_dead_lettered_and_the_events_after_it_are_projected(
    engine: AsyncEngine, redis: Redis, settings: ProjectorSettings
) -> None:
    store = _store(redis, settings)
    feed = settings.feed_keys()[0]
    orphan = uuid4()  # an event for an application whose history does not exist: cannot fold
    illegal = envelope(orphan, 2, success_payload(Stage.STORE))
    await redis.xadd(feed, dict(zip(FIELDS, encode_entry(illegal), strict=True)))
    garbage_id = await redis.xadd(feed, {"wire": "1", "event_id": "not-a-uuid"})
    async with running(settings):
        histories = await append_histories(store, 30)
        want = expected_rows(histories)

        async def projected() -> bool:
            return await live_rows(engine) == want

        await wait_for(projected)

        async def dead() -> bool:
            async with engine.connect() as conn:
                rows = (await conn.execute(select(dead_letters))).mappings().all()
            return len([r for r in rows if r["consumer_group"] == settings.applications_group]) == 2

        await wait_for(dead)
    async with engine.connect() as conn:
        rows = (await conn.execute(select(dead_letters))).mappings().all()
    mine = {r["entry_id"]: r for r in rows if r["consumer_group"] == settings.applications_group}
    by_event = {r["event_id"]: r for r in mine.values()}
    assert "ProjectionGap" in by_event[illegal.event_id]["error"]
    assert by_event[illegal.event_id]["event"]["type"] == "application.stored"
    assert by_event[illegal.event_id]["deliveries"] == settings.max_deliveries
    garbage = mine[garbage_id.decode() if isinstance(garbage_id, bytes) else garbage_id]
    assert garbage["event_id"] is None and garbage["error"]
    assert orphan not in await live_rows(engine)
    pending = await redis.xpending(feed, settings.applications_group)
    assert pending["pending"] == 0  # dead letters are acknowledged: nothing stays stuck


async def test_on_applied_runs_once_the_rows_are_committed_and_before_the_ack(
    engine: AsyncEngine, redis: Redis, settings: ProjectorSettings
) -> None:
    """The lag a benchmark or a metric takes there is the lag readers see: rows visible, the
    XACK (bookkeeping) still to come."""
    store = _store(redis, settings)
    histories = await append_histories(store, 5, stages=2)
    seen: list[tuple[int, int]] = []

    async def observe(stream: str, ids: Sequence[bytes]) -> None:
        pending = await redis.xpending_range(
            stream, settings.applications_group, min=ids[0], max=ids[-1], count=len(ids)
        )
        seen.append((len(ids), len(pending)))

    async with projector_runtime(settings, on_applied=observe, groups=("applications",)) as rt:
        task = asyncio.create_task(rt.app.run())
        try:
            await wait_for(lambda: _rows_equal(engine, histories))
            await wait_for(lambda: _all_acked(redis, settings))
        finally:
            rt.app.exit()
            await asyncio.wait_for(task, 30)
    assert sum(applied for applied, _ in seen) == sum(len(h) for h in histories.values())
    assert all(pending == applied for applied, pending in seen)


async def _rows_equal(engine: AsyncEngine, histories: dict[UUID, list[EventEnvelope]]) -> bool:
    return await live_rows(engine) == expected_rows(histories)


async def _all_acked(redis: Redis, settings: ProjectorSettings) -> bool:
    for stream in settings.feed_keys():
        summary = await redis.xpending(stream, settings.applications_group)
        if summary["pending"]:
            return False
    return True
