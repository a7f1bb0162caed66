"""The embedded mode's read models: the projections run inside each append's transaction.

So the read models never disagree with the log, and a batch that does not fold (an illegal
transition) refuses the append itself. Same projections, SQL writer per dialect.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from resumeflow.domain.events import EventCodec, EventEnvelope, default_codec
from resumeflow.eventstore.sql import read_history
from resumeflow.projections.batch import Writer, project
from resumeflow.projections.model import Projection
from resumeflow.projections.writers.postgres import PostgresWriter
from resumeflow.projections.writers.sqlite import SqliteWriter

__all__ = ["InlineProjections", "writer_for"]


async def writer_for(conn: AsyncConnection) -> Writer:
    """The writer of ``conn``'s dialect, on that connection (and its transaction)."""
    if conn.dialect.name == "postgresql":
        raw = await conn.get_raw_connection()
        return PostgresWriter(raw.driver_connection)
    return SqliteWriter(conn)


class InlineProjections:
    def __init__(self, projections: Sequence[Projection], codec: EventCodec | None = None) -> None:
        self.projections = tuple(projections)
        self._codec = codec or default_codec()

    async def apply(
        self, conn: AsyncConnection, events: Sequence[EventEnvelope]
    ) -> Callable[[], None] | None:
        async def history(application_id: UUID, *, after_version: int = 0) -> list[EventEnvelope]:
            return await read_history(conn, application_id, after_version, self._codec)

        return await project(self.projections, events, await writer_for(conn), history)
