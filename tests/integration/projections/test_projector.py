"""The projector on real Redis and Postgres: rows equal the reference; poison goes to dead
letters without holding back anything else, in its group or the other."""

from __future__ import annotations

from typing import Any, cast
from uuid import uuid4

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.bootstrap.settings import Settings
from resumeflow.database.tables import dead_letters, events, stage_timings
from resumeflow.domain.events import Stage
from resumeflow.eventstore.retention import FeedCursors, last_trims
from resumeflow.eventstore.wire import FIELDS, encode_entry
from resumeflow.projections.projector import PROJECTION
from tests.factories import envelope, happy_history, success_payload
from tests.integration.projections.helpers import (
    append_histories,
    caught_up,
    live_rows,
    running,
    store_of,
    wait_for,
)
from tests.integration.projections.reference import reference_rows

pytestmark = pytest.mark.integration


async def test_every_row_equals_the_reference_of_its_events(
    engine: AsyncEngine, redis: Redis, settings: Settings
) -> None:
    store = store_of(redis, settings)
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
    engine: AsyncEngine, redis: Redis, settings: Settings
) -> None:
    store = store_of(redis, settings)
    feed = store.feed_keys[0]
    orphan = uuid4()  # an event for an application whose history does not exist: cannot fold
    illegal = envelope(orphan, 2, success_payload(Stage.STORE))
    await redis.xadd(feed, dict(zip(FIELDS, encode_entry(illegal), strict=True)))
    garbage_id = cast(bytes, await redis.xadd(feed, {"wire": "1", "event_id": "not-a-uuid"}))
    async with running(settings):
        histories = await append_histories(store, 30)
        want = reference_rows(histories)

        async def projected() -> bool:
            return await live_rows(engine) == want

        await wait_for(projected)

        async def dead() -> bool:
            async with engine.connect() as conn:
                rows = (await conn.execute(select(dead_letters))).mappings().all()
            return len(rows) == 2

        await wait_for(dead)
    async with engine.connect() as conn:
        rows = (await conn.execute(select(dead_letters))).mappings().all()
    assert {r["consumer_group"] for r in rows} == {PROJECTION}
    mine = {r["entry_id"]: r for r in rows}
    by_event = {r["event_id"]: r for r in mine.values()}
    assert "ProjectionGap" in by_event[illegal.event_id]["error"]
    assert by_event[illegal.event_id]["event"]["type"] == "application.stored"
    assert by_event[illegal.event_id]["deliveries"] == settings.projections.max_deliveries
    async with engine.connect() as conn:  # the archive keeps the event the fold refused
        kept = (await conn.execute(select(events.c.event_id))).scalars().all()
    assert illegal.event_id in kept
    garbage = mine[garbage_id.decode()]
    assert garbage["event_id"] is None and garbage["error"]
    assert orphan not in await live_rows(engine)
    pending = await redis.xpending(feed, PROJECTION)
    assert pending["pending"] == 0  # dead letters are acknowledged: nothing stays stuck


async def test_events_taken_by_a_dead_consumer_are_filled_in_from_the_history(
    engine: AsyncEngine, redis: Redis, settings: Settings
) -> None:
    """A consumer that read an application's first events and died leaves them pending; the
    next events arrive with a gap, which the projector fills from the application's stream,
    long before the claimer would hand the pending entries to anyone."""
    settings.projections.claim_idle_ms = 600_000
    store = store_of(redis, settings)
    histories = await append_histories(store, 3, stages=2)  # versions 1-3 of three applications
    for stream in store.feed_keys:
        await redis.xgroup_create(stream, PROJECTION, id="0", mkstream=True)
        await redis.xreadgroup(PROJECTION, "dead-0", {stream: ">"})  # taken, never acknowledged
    later = {app: happy_history(app)[3:] for app in histories}  # versions 4-7, new ids
    for app, events_ in later.items():
        await store.append(app, events_, expected_version=3)
    async with running(settings):
        want = {app: histories[app] + later[app] for app in histories}

        async def filled() -> bool:
            return await live_rows(engine) == reference_rows(want)

        await wait_for(filled)


async def test_the_projector_trims_what_every_reader_has_read_and_records_it(
    engine: AsyncEngine, redis: Redis, settings: Settings
) -> None:
    settings.projections.trim_every_seconds = 0.2
    settings.log.feed_retention_seconds = 0.001
    store = store_of(redis, settings)
    histories = await append_histories(store, 10)
    cursors = FeedCursors(redis, prefix=store.prefix, feed_keys=store.feed_keys)
    held = store.feed_keys[0]
    first = cast(list[tuple[bytes, Any]], await redis.xrange(held, count=1))[0][0].decode()
    end = cast(list[tuple[bytes, Any]], await redis.xrevrange(store.feed_keys[1], count=1))
    # a reader that has read one entry of feed:0 and all of feed:1
    await cursors.set("sweeper", f"2|{first}|{end[0][0].decode()}")
    async with running(settings):
        await wait_for(lambda: caught_up(engine, histories))

        async def trimmed() -> bool:
            trims = await last_trims(redis, store.prefix)
            return len(trims) == 2 and await redis.xlen(store.feed_keys[1]) == 0

        await wait_for(trimmed, within=20)
    trims = await last_trims(redis, store.prefix)
    assert trims[held].held_by == "sweeper" and trims[store.feed_keys[1]].removed > 0
    kept = cast(list[tuple[bytes, Any]], await redis.xrange(held))
    wanted = [e for h in histories.values() for e in h if store.partition_of(e.application_id) == 0]
    assert len(kept) >= len(wanted) - 1  # all the sweeper has not read (whole nodes trimmed)
