"""Bounded Redis: finished, archived applications leave Redis; reads and retries go on."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.bootstrap.eventlog import event_log
from resumeflow.bootstrap.settings import LogSettings, Settings
from resumeflow.domain.events import Stage
from resumeflow.domain.ports import AppendBatch
from resumeflow.eventstore.redis_streams import RedisStreamEventStore
from resumeflow.projections.retention import expire_finished
from tests.factories import envelope, failure_payloads, happy_history, retried_payload
from tests.integration.projections.helpers import append_histories, caught_up, running, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

APPLICATIONS = 10_000


def _expiring(settings: Settings) -> Settings:
    """Production's batch size; the feed and finished applications let go at once."""
    return settings.model_copy(
        update={
            "log": LogSettings(
                stream_prefix=settings.log.stream_prefix,
                stream_partitions=settings.log.stream_partitions,
                feed_retention_seconds=0.001,
                application_retention_seconds=0,
            ),
            "projections": settings.projections.model_copy(
                update={"batch_size": 500, "trim_every_seconds": 0.5}
            ),
        }
    )


async def _app_keys(redis: Redis, prefix: str) -> int:
    return len([key async for key in redis.scan_iter(match=f"{prefix}:app:*", count=1000)])


async def _used_memory(redis: Redis) -> int:
    return int((await redis.info("memory"))["used_memory"])


async def test_redis_holds_under_1_kb_per_finished_application(
    engine: AsyncEngine, redis: Redis, settings: Settings
) -> None:
    settings = _expiring(settings)
    store = event_log(settings, redis, engine)
    prefix = settings.log.stream_prefix
    async with running(settings):
        await asyncio.sleep(1)  # the consumer groups exist: this is the empty log
        empty = await _used_memory(redis)
        histories = await append_histories(store, APPLICATIONS)
        full = await _used_memory(redis)
        await wait_for(lambda: caught_up(engine, histories), within=600)

        async def gone() -> bool:
            return await _app_keys(redis, prefix) == 0

        await wait_for(gone, within=120)
        await asyncio.sleep(1.5)  # one more trim round for the feed's tail
        after = await _used_memory(redis)

    per_application = (after - empty) / APPLICATIONS
    print(f"\nused_memory: empty {empty}, full {full}, after retention {after}")
    assert (full - empty) / APPLICATIONS > 2048  # the histories really were in Redis
    assert per_application <= 1024, f"{per_application:.0f} bytes per application remain"
    some = next(iter(histories))
    assert [e.event_id for e in await store.read(some)] == [e.event_id for e in histories[some]]
    assert [e.version for e in await store.read(some, after_version=5)] == [6, 7]


async def test_a_failed_application_expired_from_redis_can_be_retried(
    engine: AsyncEngine, redis: Redis, settings: Settings
) -> None:
    store = event_log(settings, redis, engine)
    app = uuid4()
    history = happy_history(app, stages=2)
    failure = failure_payloads(Stage.PARSE)
    history += [envelope(app, len(history) + n, p) for n, p in enumerate(failure, start=1)]
    await store.append(app, history, expected_version=0)
    async with running(settings):
        await wait_for(lambda: caught_up(engine, {app: history}))
    assert await expire_finished(store, engine, after_seconds=0) == 1
    await wait_for(lambda: _none_left(redis, store))
    feed_before = [await redis.xlen(key) for key in store.feed_keys]

    retried = envelope(app, len(history) + 1, retried_payload())
    # through append_many, as the operator's retry does; the archive restores the stream first
    [outcome] = await store.append_many([AppendBatch(app, [retried], len(history))])

    assert outcome == len(history) + 1
    stream = store.stream_key(app)
    assert await redis.xlen(stream) == len(history) + 1
    assert await redis.pttl(stream) == -1 and await redis.pttl(f"{stream}:idx") == -1
    assert [e.event_id for e in await store.read(app)] == [e.event_id for e in [*history, retried]]
    feed_after = [await redis.xlen(key) for key in store.feed_keys]
    assert sum(feed_after) - sum(feed_before) == 1  # only the new event goes to the feed


async def test_an_append_while_expiring_keeps_the_application(
    engine: AsyncEngine, redis: Redis, settings: Settings
) -> None:
    store = event_log(settings, redis, engine)
    app = uuid4()
    history = happy_history(app, stages=1)
    await store.append(app, history[:1], expected_version=0)
    assert await store.expire({app: 1}, after_seconds=60) == 1
    assert await store.expire({app: 7}, after_seconds=60) == 0  # moved on: left alone
    await store.append(app, history[1:], expected_version=1)
    stream = store.stream_key(app)
    assert await redis.pttl(stream) == -1 and await redis.pttl(f"{stream}:idx") == -1


async def _none_left(redis: Redis, store: RedisStreamEventStore) -> bool:
    return await _app_keys(redis, store.prefix) == 0
