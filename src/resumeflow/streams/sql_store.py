"""The event store on a SQL database (SQLite in the embedded mode; the Postgres events archive).

An append is one transaction: check the event ids, check the expected version, insert, and run
the inline projections on the same connection, so a read model never disagrees with the log.
The unique (application_id, version) constraint settles a race that both checks passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from resumeflow.domain.errors import ConcurrencyConflict, DuplicateEvent
from resumeflow.domain.events import EventCodec, EventEnvelope, default_codec
from resumeflow.domain.ports import AppendBatch, AppendOutcome, FeedPage
from resumeflow.streams.batches import append_each, check_batch
from resumeflow.streams.tables import events as events_table

__all__ = ["InlineProjection", "SqlEventStore"]


class InlineProjection(Protocol):
    """A read model updated in the append's own transaction (the embedded mode's projections)."""

    name: str

    async def apply(self, conn: AsyncConnection, events: Sequence[EventEnvelope]) -> None: ...


class SqlEventStore:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        codec: EventCodec | None = None,
        projections: Sequence[InlineProjection] = (),
    ) -> None:
        self._engine = engine
        self._codec = codec or default_codec()
        self._projections = tuple(projections)

    async def append(
        self, application_id: UUID, events: Sequence[EventEnvelope], *, expected_version: int
    ) -> int:
        check_batch(application_id, events, expected_version)
        try:
            async with self._engine.begin() as conn:
                actual = await self._version(conn, application_id)
                ids = [e.event_id for e in events]
                seen = (
                    await conn.execute(select(func.count()).where(events_table.c.event_id.in_(ids)))
                ).scalar_one()
                if seen == len(ids):
                    return actual
                if seen:
                    raise DuplicateEvent(f"{seen} of {len(ids)} events were appended before")
                if actual != expected_version:
                    raise ConcurrencyConflict(application_id, expected_version, actual)
                await conn.execute(events_table.insert(), [self._row(e) for e in events])
                for projection in self._projections:
                    await projection.apply(conn, events)
        except IntegrityError as error:
            async with self._engine.connect() as conn:
                actual = await self._version(conn, application_id)
            if actual == expected_version:
                raise
            raise ConcurrencyConflict(application_id, expected_version, actual) from error
        return expected_version + len(events)

    async def append_many(self, batches: Sequence[AppendBatch]) -> list[AppendOutcome]:
        return await append_each(self.append, batches)

    async def read(self, application_id: UUID, *, after_version: int = 0) -> list[EventEnvelope]:
        query = (
            select(events_table)
            .where(events_table.c.application_id == application_id)
            .where(events_table.c.version > after_version)
            .order_by(events_table.c.version)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [self._codec.decode(row) for row in rows]

    async def read_feed(self, *, after: str | None = None, limit: int = 1000) -> FeedPage:
        start = int(after) if after else 0
        query = (
            select(events_table)
            .where(events_table.c.position > start)
            .order_by(events_table.c.position)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        position = str(rows[-1]["position"]) if rows else str(start)
        return FeedPage(events=tuple(self._codec.decode(r) for r in rows), position=position)

    @staticmethod
    async def _version(conn: AsyncConnection, application_id: UUID) -> int:
        query = select(func.coalesce(func.max(events_table.c.version), 0)).where(
            events_table.c.application_id == application_id
        )
        return int((await conn.execute(query)).scalar_one())

    def _row(self, event: EventEnvelope) -> dict[str, Any]:
        record = self._codec.encode(event)
        return record | {
            "event_id": event.event_id,
            "application_id": event.application_id,
            "occurred_at": event.occurred_at,
            "correlation_id": event.correlation_id,
            "causation_id": event.causation_id,
        }
