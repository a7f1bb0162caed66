"""The events archive: every event ever appended, in Postgres, exactly once by event id.

Why a projection and not a second write in the append: the append stays one atomic Redis script,
and the archive catches up from the feed like any read model. It is the durable copy that lets
the feed be trimmed (streams/retention.py) and lets a rebuild or a replay start from the
beginning of time; ``SqlEventStore`` reads it back (``read``, ``read_feed``).

Invariant: inserting an event twice (redelivery, a claimed entry, a replayed feed) is a no-op,
because ``event_id`` and (``application_id``, ``version``) are unique and conflicts are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from resumeflow.domain.events import EventCodec, EventEnvelope, default_codec
from resumeflow.streams.pg_rows import Rows
from resumeflow.streams.tables import events as events_table

__all__ = ["EventsArchive", "archive_row"]


def archive_row(
    event: EventEnvelope, codec: EventCodec, *, payload_as_json: bool = False
) -> dict[str, Any]:
    """The ``events`` row of an envelope: the codec's record with typed ids and times."""
    return codec.encode(event, payload_as_json=payload_as_json) | {
        "event_id": event.event_id,
        "application_id": event.application_id,
        "occurred_at": event.occurred_at,
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
    }


_COLUMNS = [c.name for c in events_table.columns if c.name != "position"]
_INSERT = (  # names from our metadata only; every value is a bound parameter
    f"INSERT INTO {events_table.name} ({', '.join(_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join(f'${n}' for n in range(1, len(_COLUMNS) + 1))}) ON CONFLICT DO NOTHING"
)


class EventsArchive:
    """Projection writing each event into ``events``; idempotent by event id."""

    name = "archive"

    def __init__(self, codec: EventCodec | None = None) -> None:
        self._codec = codec or default_codec()

    async def rows(self, db: Any, events: Sequence[EventEnvelope]) -> Rows:
        """Postgres: the batch as the rows of one insert (``pg_rows.write_rows``)."""
        rows = (archive_row(event, self._codec, payload_as_json=True) for event in events)
        return Rows(_INSERT, [tuple(row[c] for c in _COLUMNS) for row in rows])

    async def apply(self, conn: AsyncConnection, events: Sequence[EventEnvelope]) -> None:
        if not events:
            return
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(events_table).on_conflict_do_nothing()
        await conn.execute(statement, [archive_row(e, self._codec) for e in events])
