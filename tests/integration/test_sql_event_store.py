from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.domain.application import fold
from resumeflow.domain.ports import EventStore
from resumeflow.streams.database import create_engine, create_schema
from resumeflow.streams.projection import ApplicationsProjection, row_from_state
from resumeflow.streams.sql_store import SqlEventStore
from resumeflow.streams.tables import applications
from tests.contracts.event_store import EventStoreContract
from tests.factories import happy_history


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'events.db'}")
    await create_schema(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sql_store(engine: AsyncEngine) -> SqlEventStore:
    return SqlEventStore(engine, projections=[ApplicationsProjection()])


class TestSqliteEventStore(EventStoreContract):
    @pytest.fixture
    def store(self, sql_store: SqlEventStore) -> EventStore:
        return sql_store


async def test_the_inline_projection_row_equals_the_fold(
    engine: AsyncEngine, sql_store: SqlEventStore
) -> None:
    store = sql_store
    history = happy_history(stages=4)
    app = history[0].application_id
    await store.append(app, history[:2], expected_version=0)
    await store.append(app, history[2:], expected_version=2)
    await store.append(app, history[2:], expected_version=2)  # a retried append changes nothing
    async with engine.connect() as conn:
        row = (await conn.execute(select(applications))).mappings().one()
    expected = fold(history)
    assert expected is not None
    assert row["version"] == 5 and row["status"] == "embedded"
    assert row["embedded_value"] == [0.6, 0.8]
    want = row_from_state(expected)
    got = dict(row)
    for moment in ("created_at", "updated_at"):
        assert got.pop(moment).replace(tzinfo=None) == want.pop(moment).replace(tzinfo=None)
    assert got == want


async def test_embedded_value_is_null_until_embedded_and_never_shared(
    engine: AsyncEngine, sql_store: SqlEventStore
) -> None:
    store = sql_store
    parsed = happy_history(stages=3)
    embedded = happy_history(stages=4)
    for history in (parsed, embedded):
        await store.append(history[0].application_id, history, expected_version=0)
    async with engine.connect() as conn:
        nulls = (
            (await conn.execute(text("SELECT id FROM applications WHERE embedded_value IS NULL")))
            .scalars()
            .all()
        )
        values = (
            (
                await conn.execute(
                    text("SELECT embedded_value FROM applications WHERE embedded_value IS NOT NULL")
                )
            )
            .scalars()
            .all()
        )
    assert [UUID(str(n)) for n in nulls] == [parsed[0].application_id]
    assert len(values) == 1 and json.loads(values[0]) == [0.6, 0.8]
