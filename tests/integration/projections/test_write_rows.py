"""The projector's one-round-trip write: a batch's rows and its checkpoints, all or nothing."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.domain.events import EventEnvelope
from resumeflow.streams.archive import EventsArchive
from resumeflow.streams.memory_store import InMemoryEventStore
from resumeflow.streams.pg_rows import Rows, driver_connection, write_rows
from resumeflow.streams.read_models import ApplicationsReadModel
from resumeflow.streams.tables import events, projection_checkpoints
from tests.factories import happy_history
from tests.integration.projections.helpers import expected_rows, live_rows

pytestmark = pytest.mark.integration


async def _write(engine: AsyncEngine, make_rows: Any, checkpoints: list[tuple[str, str]]) -> None:
    async with engine.connect() as conn:
        db = await driver_connection(conn)
        rows = await make_rows(db)
        await write_rows(db, rows, checkpoints)
    if rows.after_commit is not None:
        rows.after_commit()


async def _checkpoints(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as conn:
        result = await conn.execute(select(projection_checkpoints))
        return {row.name: row.position for row in result}


async def test_rows_and_checkpoints_are_written_together(engine: AsyncEngine) -> None:
    histories = {app: happy_history(app) for app in (uuid4(), uuid4(), uuid4())}
    model = ApplicationsReadModel(InMemoryEventStore(), timings=None, cache_size=100)
    batch = [event for story in histories.values() for event in story]
    checkpoints = [("g@feed:0", "5-0"), ("g@feed:1", "7-0"), ("g@feed:0", "6-0")]

    await _write(engine, lambda db: model.rows(db, batch), checkpoints)

    assert await live_rows(engine) == expected_rows(histories)
    assert await _checkpoints(engine) == {"g@feed:0": "6-0", "g@feed:1": "7-0"}  # last wins


async def test_a_failing_row_writes_nothing_not_even_the_checkpoint(engine: AsyncEngine) -> None:
    good = ApplicationsReadModel(InMemoryEventStore(), timings=None)
    async with engine.connect() as conn:
        rows = await good.rows(await driver_connection(conn), happy_history(uuid4()))
    broken = list(rows.records[0])
    broken[2] = None  # email is NOT NULL: Postgres refuses this record after the first
    bad = Rows(rows.sql, [rows.records[0], tuple(broken)])

    with pytest.raises(asyncpg.NotNullViolationError):
        await _write(engine, lambda _db: _ready(bad), [("g@feed:0", "9-0")])

    assert await live_rows(engine) == {}
    assert await _checkpoints(engine) == {}


async def _ready(rows: Rows) -> Rows:
    return rows


async def test_a_batch_of_redeliveries_still_moves_the_checkpoint(engine: AsyncEngine) -> None:
    history = happy_history(uuid4())
    model = ApplicationsReadModel(InMemoryEventStore(), timings=None, cache_size=100)
    await _write(engine, lambda db: model.rows(db, history), [])

    await _write(engine, lambda db: model.rows(db, history[:3]), [("g@feed:0", "12-0")])

    assert await _checkpoints(engine) == {"g@feed:0": "12-0"}
    assert await live_rows(engine) == expected_rows({history[0].application_id: history})


async def test_a_model_with_no_cache_reads_the_rows_back_and_goes_on(engine: AsyncEngine) -> None:
    histories: dict[UUID, list[EventEnvelope]] = {
        app: happy_history(app) for app in (uuid4(), uuid4())
    }
    first = ApplicationsReadModel(InMemoryEventStore(), timings=None)
    await _write(
        engine, lambda db: first.rows(db, [e for h in histories.values() for e in h[:4]]), []
    )

    second = ApplicationsReadModel(InMemoryEventStore(), timings=None)  # knows nothing yet
    await _write(
        engine, lambda db: second.rows(db, [e for h in histories.values() for e in h[4:]]), []
    )

    assert await live_rows(engine) == expected_rows(histories)


async def test_the_archive_holds_each_event_once(engine: AsyncEngine) -> None:
    history = happy_history(uuid4())
    archive = EventsArchive()
    await _write(engine, lambda db: archive.rows(db, history), [("a@feed:0", "1-0")])
    await _write(engine, lambda db: archive.rows(db, history[2:]), [("a@feed:0", "2-0")])

    async with engine.connect() as conn:
        stored = (await conn.execute(select(func.count()).select_from(events))).scalar_one()
        payloads = (await conn.execute(select(events.c.payload).order_by(events.c.version))).all()
    assert stored == len(history)
    assert [p for (p,) in payloads] == [e.payload.model_dump(mode="json") for e in history]


async def test_rows_refuse_a_model_that_also_keeps_stage_timings(engine: AsyncEngine) -> None:
    model = ApplicationsReadModel(InMemoryEventStore())  # with timings: apply() writes both
    async with engine.connect() as conn:
        with pytest.raises(ValueError, match="timings=None"):
            await model.rows(await driver_connection(conn), happy_history(uuid4()))
