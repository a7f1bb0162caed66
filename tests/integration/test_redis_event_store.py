"""RedisStreamEventStore against a real redis-server the tests start themselves."""

from __future__ import annotations

import asyncio
from collections import Counter
from uuid import UUID, uuid4

import pytest
from redis.asyncio import Redis

from resumeflow.domain.errors import ConcurrencyConflict
from resumeflow.domain.events import EventEnvelope, Stage
from resumeflow.domain.ports import AppendBatch, EventStore
from resumeflow.eventstore.redis_streams import RedisStreamEventStore
from tests.contracts.event_store import EventStoreContract
from tests.factories import envelope, happy_history, received_payload, success_payload

pytestmark = pytest.mark.integration


class TestRedisStreamEventStore(EventStoreContract):
    @pytest.fixture
    def store(self, redis: Redis, key_prefix: str) -> EventStore:
        return RedisStreamEventStore(redis, partitions=3, prefix=key_prefix)


async def _drain_feed(store: RedisStreamEventStore, limit: int = 97) -> list[EventEnvelope]:
    events: list[EventEnvelope] = []
    position: str | None = None
    while (page := await store.read_feed(after=position, limit=limit)).events:
        events += page.events
        position = page.position
    return events


async def test_two_writers_racing_per_version_one_wins_each_time(
    redis: Redis, key_prefix: str
) -> None:
    store = RedisStreamEventStore(redis, prefix=key_prefix)
    history = happy_history(stages=0)
    app = history[0].application_id
    await store.append(app, history, expected_version=0)
    winners: list[UUID] = []
    for version in range(2, 12):
        rivals = [envelope(app, version, success_payload(Stage.STORE)) for _ in range(2)]
        results = await asyncio.gather(
            *(store.append(app, [r], expected_version=version - 1) for r in rivals),
            return_exceptions=True,
        )
        assert sorted(results, key=str)[0] == version, results
        conflicts = [r for r in results if isinstance(r, ConcurrencyConflict)]
        assert len(conflicts) == 1 and conflicts[0].actual == version
        winners.append(rivals[results.index(version)].event_id)
    stored = await store.read(app)
    assert [e.event_id for e in stored[1:]] == winners
    assert [e.version for e in stored] == list(range(1, 12))


async def test_a_thousand_concurrent_appends_leave_no_gap_and_no_duplicate(
    redis: Redis, key_prefix: str
) -> None:
    store = RedisStreamEventStore(redis, partitions=4, prefix=key_prefix)
    histories = [happy_history(stages=4) for _ in range(200)]  # 200 applications x 5 events

    async def writer(history: list[EventEnvelope]) -> None:
        for event in history:  # one append per event, each checked against its version
            await store.append(event.application_id, [event], expected_version=event.version - 1)

    await asyncio.gather(*(writer(h) for h in histories))
    total = sum(len(h) for h in histories)
    assert total == 1000
    for history in histories:
        stored = await store.read(history[0].application_id)
        assert [e.event_id for e in stored] == [e.event_id for e in history]
    feed = await _drain_feed(store)
    assert len(feed) == total
    assert Counter(e.event_id for e in feed).most_common(1)[0][1] == 1
    per_app: dict[UUID, list[int]] = {}
    for event in feed:
        per_app.setdefault(event.application_id, []).append(event.version)
    assert len(per_app) == 200
    assert all(v == [1, 2, 3, 4, 5] for v in per_app.values())
    assert {store.partition_of(app) for app in per_app} == {0, 1, 2, 3}


async def test_the_feed_position_refuses_another_partition_count(
    redis: Redis, key_prefix: str
) -> None:
    store = RedisStreamEventStore(redis, partitions=2, prefix=key_prefix)
    history = happy_history(stages=1)
    await store.append(history[0].application_id, history, expected_version=0)
    page = await store.read_feed()
    assert len(page.events) == 2
    with pytest.raises(ValueError, match="partitions"):
        await RedisStreamEventStore(redis, partitions=3, prefix=key_prefix).read_feed(
            after=page.position
        )


async def test_appends_survive_a_flushed_script_cache(redis: Redis, key_prefix: str) -> None:
    store = RedisStreamEventStore(redis, prefix=key_prefix)
    first, second = happy_history(stages=1), happy_history(stages=1)
    await redis.script_flush()
    assert await store.append(first[0].application_id, first, expected_version=0) == 2
    await redis.script_flush()
    assert await store.append_many([AppendBatch(second[0].application_id, second, 0)]) == [2]


async def test_a_value_the_wire_cannot_carry_is_refused_before_writing(
    redis: Redis, key_prefix: str
) -> None:
    store = RedisStreamEventStore(redis, prefix=key_prefix)
    event = envelope(uuid4(), 1, received_payload()).model_copy(update={"traceparent": "00-\0"})
    with pytest.raises(ValueError, match="NUL"):
        await store.append(event.application_id, [event], expected_version=0)
    assert await store.read(event.application_id) == []
