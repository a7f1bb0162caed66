"""The events archive: every event of the Redis log, in Postgres, once per event id.

Why a projection and not a second write in the append: the append stays one atomic Redis script,
and the archive catches up from the feed like any read model. It is the durable copy that lets the
feed and finished applications' streams be trimmed, and that replays and rebuilds read from the
beginning of time (``SqlEventStore`` over the same table). It has its own consumer group, so a
read model's failure never holds back the durable copy (docs/adr/0005-read-side.md).

Invariant: an event archived twice (redelivery, a claimed entry) is one row: ``event_id`` and
(``application_id``, ``version``) are unique, and a conflict keeps the stored row.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table

from resumeflow.database.tables import events as events_table
from resumeflow.domain.events import EventCodec, EventEnvelope, default_codec
from resumeflow.eventstore.sql import event_row
from resumeflow.projections.model import Changes, Reads, Upsert

__all__ = ["ArchiveProjection"]


class ArchiveProjection:
    name = "archive"
    tables: tuple[Table, ...] = (events_table,)

    def __init__(self, codec: EventCodec | None = None) -> None:
        self._codec = codec or default_codec()

    async def changes(self, events: Sequence[EventEnvelope], reads: Reads) -> Changes:
        if not events:
            return Changes()
        return Changes([Upsert(events_table, [event_row(e, self._codec) for e in events])])
