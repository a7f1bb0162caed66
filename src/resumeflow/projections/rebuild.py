"""Rebuild the read models from the events archive, then swap them in (Postgres and SQLite).

Why fresh tables and a swap, not TRUNCATE and refill: readers must never see empty or half-built
tables. The rebuild runs the live projections (the same modules the projector and the embedded
mode run) over the ``events`` table up to a position below which every event is committed, read
in (application, version) order and cut into chunks of whole histories, into ``<table>_rebuild``
copies. Then, in one transaction that
holds off writers (Postgres: ``LOCK TABLE``; SQLite: the write lock its ``BEGIN IMMEDIATE``
takes), it applies the events archived since the snapshot, drops the old tables, renames the new
ones and gives their keys and indexes the canonical names, so the schema again equals
``database.tables`` and the migrations. Readers see the old rows until the commit, the new after.

An application whose history does not fold (a poison event) keeps its longest legal prefix, as
the live projector does; such events are counted in the report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Column,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    func,
    literal,
    select,
    text,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from resumeflow.database.tables import events as events_table
from resumeflow.domain.errors import DomainError
from resumeflow.domain.events import EventCodec, EventEnvelope, default_codec
from resumeflow.eventstore.sql import read_history
from resumeflow.projections.batch import History, project
from resumeflow.projections.model import Projection, ProjectionGap
from resumeflow.projections.writers.postgres import PostgresWriter
from resumeflow.projections.writers.sqlite import SqliteWriter

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


class _Rebuild:
    def __init__(
        self,
        engine: AsyncEngine,
        projections: Sequence[Projection],
        codec: EventCodec,
        progress: Progress | None,
        chunk: int,
    ) -> None:
        self.engine = engine
        self.projections = projections
        self.codec = codec
        self.progress = progress
        self.chunk = chunk
        self.page = 5000
        self.postgres = engine.dialect.name == "postgresql"
        self.live = [t for p in projections for t in p.tables]
        scratch = MetaData()
        self.fresh = {t.name: _fresh(t, scratch) for t in self.live}
        self.scratch = scratch
        self.skipped = 0

    def _history(self, conn: AsyncConnection) -> History:
        """The log, read on the writer's connection (SQLite has one writer at a time)."""

        async def read(application_id: UUID, *, after_version: int = 0) -> list[EventEnvelope]:
            return await read_history(conn, application_id, after_version, self.codec)

        return read

    def _writer(self, conn: AsyncConnection, raw: Any) -> Any:
        if self.postgres:
            return PostgresWriter(raw, targets=self.fresh)
        return SqliteWriter(conn, targets=self.fresh)

    async def create(self) -> None:
        async with self.engine.begin() as conn:
            for table in self.fresh.values():
                await conn.execute(text(f"DROP TABLE IF EXISTS {table.name}"))
            await conn.run_sync(self.scratch.create_all)

    async def write(self, events: Sequence[EventEnvelope]) -> None:
        """Project a chunk of whole histories; a history that does not fold keeps its prefix."""
        try:
            await self._write(events)
        except (DomainError, ProjectionGap):
            by_application: dict[UUID, list[EventEnvelope]] = {}
            for event in events:
                by_application.setdefault(event.application_id, []).append(event)
            for history in by_application.values():
                for n, event in enumerate(history):
                    try:
                        await self._write([event])
                    except (DomainError, ProjectionGap):
                        self.skipped += len(history) - n
                        break

    async def _write(self, events: Sequence[EventEnvelope]) -> None:
        async with self.engine.begin() as conn:
            raw = (await conn.get_raw_connection()).driver_connection if self.postgres else None
            committed = await project(
                self.projections, events, self._writer(conn, raw), self._history(conn)
            )
        committed()

    async def high(self) -> tuple[int, int]:
        """(events, the highest position) such that every event at or below it is committed.

        Postgres hands out positions before the inserting transactions commit, so a position may
        become visible after a higher one; ``SHARE`` mode waits for the archive's inserts in
        flight and holds new ones off for this one statement (SQLite's writers are serial).
        """
        async with self.engine.begin() as conn:
            if self.postgres:
                await conn.execute(text("LOCK TABLE events IN SHARE MODE"))
            total, high = (
                await conn.execute(
                    select(func.count(), func.coalesce(func.max(events_table.c.position), 0))
                )
            ).one()
        return int(total), int(high)

    async def load(self, total: int, high: int) -> tuple[int, int]:
        """Fold the events up to ``high`` into the fresh tables; returns (events, applications).

        Read in pages in (application, version) order, each in a short transaction of its own
        (on SQLite a long read would hold the write lock the chunks need); the events at or below
        ``high`` never change, so the pages need no common snapshot.
        """
        done = apps = 0
        chunk: list[EventEnvelope] = []
        current: UUID | None = None
        after: tuple[UUID, int] | None = None
        e = events_table.c
        while True:
            query = select(events_table).where(e.position <= high)
            if after is not None:
                bound = tuple_(literal(after[0], e.application_id.type), literal(after[1]))
                query = query.where(tuple_(e.application_id, e.version) > bound)
            query = query.order_by(e.application_id, e.version).limit(self.page)
            async with self.engine.connect() as conn:
                records = (await conn.execute(query)).mappings().all()
            if not records:
                break
            for record in records:
                event = self.codec.decode(record)
                if event.application_id != current:
                    apps += 1
                    current = event.application_id
                    if len(chunk) >= self.chunk:  # chunks end between histories
                        await self.write(chunk)
                        chunk = []
                        if self.progress:
                            self.progress(done, total)
                chunk.append(event)
                done += 1
            after = (records[-1]["application_id"], records[-1]["version"])
        if chunk:
            await self.write(chunk)
        if self.progress:
            self.progress(done, total)
        return done, apps

    async def index(self) -> None:
        """Postgres builds the fresh indexes before the swap (renamed in it); SQLite, which
        cannot rename an index, builds them under their own names in the swap."""
        if not self.postgres:
            return
        async with self.engine.begin() as conn:
            for live in self.live:
                for index in live.indexes:
                    fresh = self.fresh[live.name]
                    columns = [fresh.c[c.name] for c in index.columns]
                    await conn.run_sync(Index(f"{index.name}{_SUFFIX}", *columns).create)

    async def swap(self, high: int) -> int:
        """Catch up with the archive and put the fresh tables in place; returns events caught up."""
        names = ", ".join(t.name for t in self.live)
        async with self.engine.begin() as conn:
            if self.postgres:  # the archive's inserts in flight first (see ``high``), then writers
                await conn.execute(text("LOCK TABLE events IN SHARE MODE"))
                await conn.execute(text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))
            later = (
                await conn.execute(
                    select(events_table)
                    .where(events_table.c.position > high)
                    .order_by(events_table.c.position)
                )
            ).mappings().all()  # fmt: skip
            if later:
                raw = (await conn.get_raw_connection()).driver_connection if self.postgres else None
                await project(
                    self.projections,
                    [self.codec.decode(r) for r in later],
                    self._writer(conn, raw),
                    self._history(conn),
                )
            for live in self.live:
                await self._swap(conn, live)
        return len(later)

    async def _swap(self, conn: AsyncConnection, live: Table) -> None:
        fresh = self.fresh[live.name]
        await conn.execute(text(f"DROP TABLE {live.name}"))
        await conn.execute(text(f"ALTER TABLE {fresh.name} RENAME TO {live.name}"))
        if self.postgres:
            await conn.execute(
                text(f"ALTER TABLE {live.name} RENAME CONSTRAINT pk_{fresh.name} TO pk_{live.name}")
            )
            for index in live.indexes:
                await conn.execute(
                    text(f"ALTER INDEX {index.name}{_SUFFIX} RENAME TO {index.name}")
                )
        else:
            for index in live.indexes:
                await conn.run_sync(index.create)


async def rebuild(
    engine: AsyncEngine,
    projections: Sequence[Projection],
    *,
    progress: Progress | None = None,
    chunk: int = 2000,
    codec: EventCodec | None = None,
) -> RebuildReport:
    """Rebuild the tables of ``projections`` from ``events``; swap them in atomically."""
    started = time.perf_counter()
    job = _Rebuild(engine, projections, codec or default_codec(), progress, chunk)
    await job.create()
    total, high = await job.high()
    done, apps = await job.load(total, high)
    await job.index()
    caught_up = await job.swap(high)
    return RebuildReport(done, apps, caught_up, job.skipped, time.perf_counter() - started)
