"""Rebuild the read models from the events archive, then swap them in (Postgres).

Why fresh tables and a swap, not TRUNCATE and refill: readers must never see empty or half-built
tables. The rebuild fills ``applications_rebuild`` and ``stage_timings_rebuild`` from one
REPEATABLE READ snapshot of the archive (streamed in (application, version) order, so memory
stays bounded: one application's history at a time), builds their indexes, and then, in one
transaction:

1. locks the live tables against writers (readers go on reading the old rows),
2. applies the archive's events appended since the snapshot (the catch-up),
3. drops the old tables and renames the new ones, their primary keys and indexes to the
   canonical names (so the schema again equals ``tables.metadata`` and the migrations).

Readers blocked by the swap wait for milliseconds; they see the old rows or the new ones.
Events projected live but not yet archived at the swap make a row briefly older than before;
the next event of that application fills the gap from the log (read_models.py).

An application whose archived history does not fold (a poison event) keeps its longest legal
prefix, as the live projection does; such events are counted in the report.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Index, MetaData, PrimaryKeyConstraint, Table, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from resumeflow.domain.application import ApplicationState, apply
from resumeflow.domain.errors import DomainError
from resumeflow.domain.events import EventCodec, default_codec
from resumeflow.streams.pg_rows import execute_many, upsert_sql
from resumeflow.streams.pg_rows import record as pg_record
from resumeflow.streams.projection import row_from_state
from resumeflow.streams.read_models import (
    ApplicationsReadModel,
    stage_timing,
    upsert_rows,
    upsert_timings,
)
from resumeflow.streams.sql_store import SqlEventStore
from resumeflow.streams.tables import applications, stage_timings
from resumeflow.streams.tables import events as events_table

__all__ = ["Progress", "RebuildReport", "rebuild"]

Progress = Callable[[int, int], None]
"""Called with (events read, events in the snapshot) as the rebuild goes."""

_SUFFIX = "_rebuild"


@dataclass(frozen=True)
class RebuildReport:
    events: int
    applications: int
    caught_up: int
    skipped_events: int
    seconds: float


def _fresh(table: Table, metadata: MetaData) -> Table:
    """A copy of ``table`` named ``<name>_rebuild``, with no secondary index yet."""
    columns = [Column(c.name, c.type, nullable=c.nullable, server_default=c.server_default)
               for c in table.columns]  # fmt: skip
    key = PrimaryKeyConstraint(*table.primary_key.columns.keys(), name=f"pk_{table.name}{_SUFFIX}")
    return Table(table.name + _SUFFIX, metadata, *columns, key)


def _index_names(table: Table) -> list[tuple[str, list[str]]]:
    return [(str(index.name), [c.name for c in index.columns]) for index in table.indexes]


async def _load(
    engine: AsyncEngine, rows_table: Table, timings_table: Table, progress: Progress | None,
    batch: int, codec: EventCodec,
) -> tuple[int, int, int, int]:  # fmt: skip
    """Fold the snapshot into the fresh tables; returns (events, applications, skipped, high)."""
    done = apps = skipped = 0
    rows: list[ApplicationState] = []
    timings: list[dict[str, Any]] = []

    async def flush() -> None:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await execute_many(conn, upsert_sql(rows_table), [pg_record(s) for s in rows])
            else:
                await upsert_rows(conn, [row_from_state(s) for s in rows], rows_table)
            await upsert_timings(conn, timings, timings_table)
        rows.clear()
        timings.clear()

    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            total, high = (
                await conn.execute(
                    select(func.count(), func.coalesce(func.max(events_table.c.position), 0))
                )
            ).one()
            query = (
                select(events_table)
                .where(events_table.c.position <= high)
                .order_by(events_table.c.application_id, events_table.c.version)
                .execution_options(yield_per=5000)
            )
            state: ApplicationState | None = None
            broken = False
            result = await conn.stream(query)
            async for record in result.mappings():
                done += 1
                event = codec.decode(record)
                if state is not None and state.application_id != event.application_id:
                    rows.append(state)
                    apps += 1
                    state, broken = None, False
                if broken:
                    skipped += 1
                    continue
                try:
                    before, state = state, apply(state, event)
                except DomainError:
                    skipped += 1
                    broken = True
                    continue
                timing = stage_timing(before, state, event)
                if timing:
                    timings.append(timing)
                if len(rows) >= batch:
                    await flush()
                    if progress:
                        progress(done, total)
            if state is not None:
                rows.append(state)
                apps += 1
    await flush()
    if progress:
        progress(done, total)
    return done, apps, skipped, int(high)


def _create_index(sync: Connection, index: Index) -> None:
    index.create(sync)


async def _swap(conn: AsyncConnection, live: Table, fresh: Table) -> None:
    await conn.execute(text(f"DROP TABLE {live.name}"))
    await conn.execute(text(f"ALTER TABLE {fresh.name} RENAME TO {live.name}"))
    await conn.execute(
        text(f"ALTER TABLE {live.name} RENAME CONSTRAINT pk_{fresh.name} TO pk_{live.name}")
    )
    for name, _ in _index_names(live):
        await conn.execute(text(f"ALTER INDEX {name}{_SUFFIX} RENAME TO {name}"))


async def rebuild(
    engine: AsyncEngine,
    *,
    progress: Progress | None = None,
    batch: int = 2000,
    codec: EventCodec | None = None,
) -> RebuildReport:
    """Rebuild ``applications`` and ``stage_timings`` from ``events``; swap them in atomically."""
    started = time.perf_counter()
    previous_gc = gc.get_threshold()
    gc.set_threshold(100_000, *previous_gc[1:])  # as in the projector: fewer pauses while folding
    try:
        return await _rebuild(engine, progress, batch, codec or default_codec(), started)
    finally:
        gc.set_threshold(*previous_gc)


async def _rebuild(
    engine: AsyncEngine, progress: Progress | None, batch: int, codec: EventCodec, started: float
) -> RebuildReport:
    scratch = MetaData()
    fresh = {live.name: _fresh(live, scratch) for live in (applications, stage_timings)}
    async with engine.begin() as conn:
        for table in fresh.values():
            await conn.execute(text(f"DROP TABLE IF EXISTS {table.name}"))
        await conn.run_sync(scratch.create_all)
    rows_table, timings_table = fresh["applications"], fresh["stage_timings"]
    done, apps, skipped, high = await _load(
        engine, rows_table, timings_table, progress, batch, codec
    )
    async with engine.begin() as conn:
        for live in (applications, stage_timings):
            for name, columns in _index_names(live):
                index = Index(name + _SUFFIX, *(fresh[live.name].c[c] for c in columns))
                await conn.run_sync(_create_index, index)
    async with engine.begin() as conn:
        await conn.execute(text("LOCK TABLE applications, stage_timings IN EXCLUSIVE MODE"))
        later = (
            (
                await conn.execute(
                    select(events_table)
                    .where(events_table.c.position > high)
                    .order_by(events_table.c.position)
                )
            )
            .mappings()
            .all()
        )
        if later:
            model = ApplicationsReadModel(
                SqlEventStore(engine, codec=codec), rows=rows_table, timings=timings_table
            )
            await model.apply(conn, [codec.decode(r) for r in later])
        for live in (applications, stage_timings):
            await _swap(conn, live, fresh[live.name])
    return RebuildReport(done, apps, len(later), skipped, time.perf_counter() - started)
