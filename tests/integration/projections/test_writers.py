"""The writers, one per backend, behave alike: guards, duplicates, all or nothing, checkpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import upgrade
from resumeflow.database.tables import applications, events, projection_checkpoints, stage_timings
from resumeflow.projections.batch import Writer
from resumeflow.projections.model import Upsert
from resumeflow.projections.writers.postgres import PostgresWriter
from resumeflow.projections.writers.sqlite import SqliteWriter
from tests.integration.projections.conftest import new_database

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
Write = Callable[[Callable[[Writer], Awaitable[None]]], Awaitable[None]]


@pytest.fixture(params=["sqlite", "postgres"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"
    else:
        url = await new_database(request.getfixturevalue("pg_server"))
    engine = create_engine(url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@asynccontextmanager
async def _writer(engine: AsyncEngine) -> AsyncIterator[Writer]:
    """A writer inside one transaction (Postgres: the statement's own, as the projector does)."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            yield PostgresWriter(raw.driver_connection)
    else:
        async with engine.begin() as conn:
            yield SqliteWriter(conn)


def _timing(app: UUID, stage: str, finished: int, duration: float) -> dict[str, Any]:
    return {
        "application_id": app,
        "stage": stage,
        "started_at": T0,
        "finished_at": T0 + timedelta(seconds=finished),
        "duration_ms": duration,
    }


async def _timings(engine: AsyncEngine) -> dict[tuple[UUID, str], float]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(stage_timings))).mappings().all()
    return {(r["application_id"], r["stage"]): r["duration_ms"] for r in rows}


async def _checkpoints(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(projection_checkpoints))).mappings().all()
    return {r["name"]: r["position"] for r in rows}


async def test_the_greater_guard_wins_within_a_batch_and_across_batches(
    backend: AsyncEngine,
) -> None:
    a, b = uuid4(), uuid4()
    async with _writer(backend) as w:
        await w.write(
            [
                Upsert(
                    stage_timings,
                    [_timing(a, "parse", 5, 50.0), _timing(a, "parse", 9, 90.0),
                     _timing(a, "parse", 7, 70.0), _timing(b, "parse", 1, 10.0)],
                    guard="finished_at",
                )
            ]
        )  # fmt: skip
    assert await _timings(backend) == {(a, "parse"): 90.0, (b, "parse"): 10.0}
    async with _writer(backend) as w:
        await w.write(
            [
                Upsert(
                    stage_timings,
                    [_timing(a, "parse", 8, 80.0), _timing(b, "parse", 1, 11.0),
                     _timing(b, "embed", 2, 20.0)],
                    guard="finished_at",
                )
            ]
        )  # fmt: skip
    # older (a) and equal (b) guards keep the stored row; a new key is inserted
    assert await _timings(backend) == {(a, "parse"): 90.0, (b, "parse"): 10.0, (b, "embed"): 20.0}


async def test_without_a_guard_a_conflict_keeps_the_stored_row(backend: AsyncEngine) -> None:
    event_id, app = uuid4(), uuid4()

    def event(version: int, kind: str) -> dict[str, Any]:
        return {
            "event_id": event_id, "application_id": app, "version": version, "type": kind,
            "schema_version": 1, "occurred_at": T0, "correlation_id": event_id,
            "causation_id": None, "traceparent": None, "payload": {"n": version},
        }  # fmt: skip

    async with _writer(backend) as w:
        await w.write([Upsert(events, [event(1, "application.received")])])
    async with _writer(backend) as w:
        await w.write([Upsert(events, [event(1, "application.other")])])
    async with backend.connect() as conn:
        rows = (await conn.execute(select(events))).mappings().all()
    assert [(r["type"], r["payload"]) for r in rows] == [("application.received", {"n": 1})]


async def test_rows_of_every_table_and_the_checkpoints_commit_together_or_not_at_all(
    backend: AsyncEngine,
) -> None:
    a = uuid4()
    async with _writer(backend) as w:
        await w.write(
            [Upsert(stage_timings, [_timing(a, "store", 1, 1.0)], guard="finished_at")],
            [("g@s0", "1-0"), ("g@s1", "5-0"), ("g@s0", "3-0")],
        )
    assert await _checkpoints(backend) == {"g@s0": "3-0", "g@s1": "5-0"}  # the last one wins
    broken = _timing(a, "embed", 2, 2.0) | {"duration_ms": None}  # NOT NULL: refused
    with pytest.raises(Exception, match=r"(?i)null"):
        async with _writer(backend) as w:
            await w.write(
                [Upsert(stage_timings, [_timing(a, "parse", 2, 2.0), broken], guard="finished_at")],
                [("g@s0", "9-0")],
            )
    assert await _timings(backend) == {(a, "store"): 1.0}
    assert await _checkpoints(backend) == {"g@s0": "3-0", "g@s1": "5-0"}


async def test_rows_are_read_back_as_written(backend: AsyncEngine) -> None:
    app = uuid4()
    row = {
        "id": app, "job_post_id": uuid4(), "email": "a@example.org", "name": "A",
        "status": "parsed", "next_stage": "embed", "filename": "a.pdf", "format": "pdf",
        "size_bytes": 3,
        "sha256": "b" * 64, "inbox_key": "k", "blob_key": "k2", "extracted_text": "text",
        "page_count": 1, "ocr_pages": 0, "parsed": {"name": "A", "skills": ["Go"]},
        "json_resume": {"basics": {"name": "A"}}, "parser": "local", "embedded_value": None,
        "embedding_model": None, "score": None, "score_breakdown": None, "attempts": 0,
        "last_error": None, "awaiting_failure": 0, "failure_stage": None, "failure_reason": None,
        "failure_detail": None, "correlation_id": app, "version": 4, "created_at": T0,
        "updated_at": T0 + timedelta(seconds=4), "submitted_by": None,
    }  # fmt: skip
    async with _writer(backend) as w:
        await w.write([Upsert(applications, [row], guard="version")])
    async with _writer(backend) as w:
        [back] = await w.rows(applications, [app, uuid4()])
    assert dict(back) == row  # JSON decoded, times aware, whatever the driver
