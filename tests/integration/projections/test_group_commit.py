"""Group commit: readers of several partitions that hand in batches together share one
transaction, and a fault in one batch does not hold back the others."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from uuid import uuid4

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from resumeflow.domain.events import EventEnvelope, Stage
from resumeflow.streams.projector import GroupProjector, ensure_groups
from resumeflow.streams.read_models import ApplicationsReadModel
from resumeflow.streams.redis_store import RedisStreamEventStore
from resumeflow.streams.tables import dead_letters, projection_checkpoints
from resumeflow.streams.wire import FIELDS, encode_entry
from tests.factories import envelope, happy_history, success_payload
from tests.integration.projections.helpers import expected_rows, live_rows

pytestmark = pytest.mark.integration


@pytest.fixture
async def streams(redis: Redis, key_prefix: str) -> list[str]:
    """Three partitions of this test's own, with the group ``g`` on each."""
    keys = [f"{key_prefix}:feed:{n}" for n in range(3)]
    await ensure_groups(redis, keys, ["g"])
    return keys


class CountingModel(ApplicationsReadModel):
    """The applications read model, counting the transactions it writes in."""

    applies = 0

    async def apply(
        self, conn: AsyncConnection, events: Sequence[EventEnvelope]
    ) -> Callable[[], None] | None:
        self.applies += 1
        return await super().apply(conn, events)


def _entries(events: list[EventEnvelope]) -> tuple[list[bytes], list[dict[bytes, bytes]]]:
    ids = [f"{n + 1}-0".encode() for n in range(len(events))]
    fields = [
        {k.encode(): v.encode() for k, v in zip(FIELDS, encode_entry(e), strict=True)}
        for e in events
    ]
    return ids, fields


def _projector(engine: AsyncEngine, redis: Redis, applied: list[str]) -> GroupProjector:
    store = RedisStreamEventStore(redis, prefix=f"t{uuid4().hex[:12]}")
    return GroupProjector(
        engine=engine,
        redis=redis,
        projection=CountingModel(store, timings=None),
        group="g",
        max_deliveries=1,
        on_applied=lambda stream, ids: applied.append(stream),
    )


async def test_batches_handed_in_together_share_one_transaction(
    engine: AsyncEngine, redis: Redis, streams: list[str]
) -> None:
    histories = {h[0].application_id: h for h in (happy_history() for _ in streams)}
    applied: list[str] = []
    projector = _projector(engine, redis, applied)
    await asyncio.gather(
        *(
            projector.handle(stream, *_entries(history), claimed=False)
            for stream, history in zip(streams, histories.values(), strict=True)
        )
    )
    assert isinstance(projector.projection, CountingModel)
    assert projector.projection.applies == 1
    assert await live_rows(engine) == expected_rows(histories)
    assert sorted(applied) == sorted(streams)
    async with engine.connect() as conn:
        names = (await conn.execute(select(projection_checkpoints.c.name))).scalars().all()
    assert sorted(names) == sorted(f"g@{stream}" for stream in streams)


async def test_a_batch_that_fails_does_not_hold_back_the_batches_it_was_grouped_with(
    engine: AsyncEngine, redis: Redis, streams: list[str]
) -> None:
    good = {h[0].application_id: h for h in (happy_history(), happy_history())}
    orphan = envelope(uuid4(), 2, success_payload(Stage.STORE))  # no history: cannot fold
    batches = [*good.values(), [orphan]]
    applied: list[str] = []
    projector = _projector(engine, redis, applied)
    await asyncio.gather(
        *(
            projector.handle(stream, *_entries(batch), claimed=False)
            for stream, batch in zip(streams, batches, strict=True)
        )
    )
    assert await live_rows(engine) == expected_rows(good)
    assert sorted(applied) == sorted(streams[:2])
    async with engine.connect() as conn:
        dead = (await conn.execute(select(dead_letters))).mappings().all()
    assert [(d["stream"], d["event_id"]) for d in dead] == [(streams[2], orphan.event_id)]
    assert "ProjectionGap" in dead[0]["error"]
