from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import upgrade
from resumeflow.domain.ports import EventStore
from resumeflow.eventstore.sql import SqlEventStore
from resumeflow.projections.catalog import read_models
from resumeflow.projections.inline import InlineProjections
from tests.contracts.event_store import EventStoreContract
from tests.factories import happy_history


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'events.db'}")
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sql_store(engine: AsyncEngine) -> SqlEventStore:
    return SqlEventStore(engine, inline=InlineProjections(read_models()))


class TestSqliteEventStore(EventStoreContract):
    @pytest.fixture
    def store(self, sql_store: SqlEventStore) -> EventStore:
        return sql_store


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
