"""The events archive: every event of the Redis log, in Postgres, once per event id.

Why a projection and not a second write in the append: the append stays one atomic Redis script,
and the archive catches up from the feed like any read model. It is the durable copy that lets the
feed and finished applications' streams be trimmed, and that replays and rebuilds read from the
beginning of time (``SqlEventStore`` over the same table). It is written in the same statement
as the read models, but an event a read model's fold refuses is still archived (the projector
then tries each projection alone: docs/adr/0006-read-side.md).

Invariant: an event archived twice (redelivery, a claimed entry) is one row: ``event_id`` and
(``application_id``, ``version``) are unique, and a conflict keeps the stored row.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table

from resumeflow.database.tables import events as events_table
from resumeflow.domain.events import EventCodec, EventEnvelope, default_codec
from resumeflow.eventstore.sql import event_row
from resumeflow.projections.model import Changes, Json, Reads, Upsert

__all__ = ["ArchiveProjection"]


class ArchiveProjection:
    name = "archive"
    tables: tuple[Table, ...] = (events_table,)

    def __init__(self, codec: EventCodec | None = None) -> None:
        self._codec = codec or default_codec()

    async def changes(self, events: Sequence[EventEnvelope], reads: Reads) -> Changes:
        if not events:
            return Changes()
        rows = []
        for event in events:
            row = event_row(event, self._codec, payload_as_json=True)
            rows.append(row | {"payload": Json(row["payload"])})
        return Changes([Upsert(events_table, rows)])
