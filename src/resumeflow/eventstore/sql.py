"""The event store on a SQL database (SQLite in the embedded mode; the Postgres events archive).

An append is one transaction: check the event ids, check the expected version, insert, and run
the inline projections (``Inline``, wired by bootstrap) on the same connection, so a read model
never disagrees with the log. The unique (application_id, version) constraint settles a race that
both checks passed. ``event_row`` is the one mapping of an envelope to an ``events`` row (the
archive projection writes the same rows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from resumeflow.database.tables import events as events_table
from resumeflow.domain.errors import ConcurrencyConflict, DuplicateEvent
from resumeflow.domain.events import EventCodec, EventEnvelope, default_codec
from resumeflow.domain.ports import AppendBatch, AppendOutcome, FeedPage
from resumeflow.eventstore.checks import append_each, check_batch

__all__ = ["Inline", "SqlEventStore", "event_row", "read_history"]


class Inline(Protocol):
    """Read models updated in the append's own transaction (the embedded mode's projections)."""

    async def apply(
        self, conn: AsyncConnection, events: Sequence[EventEnvelope]
    ) -> Callable[[], None] | None:
        """Write what ``events`` change; return what to run once the append has committed."""


def event_row(
    event: EventEnvelope, codec: EventCodec, *, payload_as_json: bool = False
) -> dict[str, Any]:
    """The ``events`` row of an envelope: the codec's record with typed ids and times
    (``payload_as_json``: the payload as JSON text, for a writer that stores it as it is)."""
    return codec.encode(event, payload_as_json=payload_as_json) | {
        "event_id": event.event_id,
        "application_id": event.application_id,
        "occurred_at": event.occurred_at,
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
    }


async def read_history(
    conn: AsyncConnection, application_id: UUID, after_version: int, codec: EventCodec
) -> list[EventEnvelope]:
    """One application's events after ``after_version``, on ``conn`` (inside its transaction)."""
    query = (
        select(events_table)
        .where(events_table.c.application_id == application_id)
        .where(events_table.c.version > after_version)
        .order_by(events_table.c.version)
    )
    rows = (await conn.execute(query)).mappings().all()
    return [codec.decode(row) for row in rows]


class SqlEventStore:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        codec: EventCodec | None = None,
        inline: Inline | None = None,
    ) -> None:
        self._engine = engine
        self._codec = codec or default_codec()
        self._inline = inline

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
                await conn.execute(
                    events_table.insert(), [event_row(e, self._codec) for e in events]
                )
                committed = await self._inline.apply(conn, events) if self._inline else None
        except IntegrityError as error:
            async with self._engine.connect() as conn:
                actual = await self._version(conn, application_id)
            if actual == expected_version:
                raise
            raise ConcurrencyConflict(application_id, expected_version, actual) from error
        if committed is not None:
            committed()
        return expected_version + len(events)

    async def append_many(self, batches: Sequence[AppendBatch]) -> list[AppendOutcome]:
        return await append_each(self.append, batches)

    async def read(self, application_id: UUID, *, after_version: int = 0) -> list[EventEnvelope]:
        async with self._engine.connect() as conn:
            return await read_history(conn, application_id, after_version, self._codec)

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
