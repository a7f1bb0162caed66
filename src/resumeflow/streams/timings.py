"""The ``stage_timings`` projection: how long each stage of each application took.

A stage's duration runs from the event that made it due (the application's previous event) to
the event recording its success. Why a projection of its own (its own consumer group) rather than
a second write in the applications projection: it doubled the rows that projection wrote per
event, and the two scale and fail independently.

All it needs per application is the time of the latest event seen; it keeps that for recent
applications in memory and otherwise reads the previous event from the event store. Redelivered
and reordered events are harmless: a timing depends only on two immutable events, and the upsert
keeps the latest success of a stage (``upsert_timings``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from resumeflow.domain.application import stage_of
from resumeflow.domain.events import EventEnvelope
from resumeflow.streams.pg_rows import Rows
from resumeflow.streams.read_models import HistoryReader, timings_rows, upsert_timings

__all__ = ["StageTimingsProjection"]


class StageTimingsProjection:
    name = "stage_timings"

    def __init__(self, history: HistoryReader, *, cache_size: int = 10_000) -> None:
        self._history = history
        self._cache_size = cache_size
        self._last: OrderedDict[UUID, tuple[int, datetime]] = OrderedDict()

    async def apply(
        self, conn: AsyncConnection, events: Sequence[EventEnvelope]
    ) -> Callable[[], None] | None:
        timings, after_commit = await self._timings(events)
        await upsert_timings(conn, timings)
        return after_commit

    async def rows(self, db: Any, events: Sequence[EventEnvelope]) -> Rows:
        """Postgres: the batch as the rows of one upsert (``pg_rows.write_rows``)."""
        timings, after_commit = await self._timings(events)
        rows = timings_rows(timings)
        return Rows(rows.sql, rows.records, after_commit)

    async def _timings(
        self, events: Sequence[EventEnvelope]
    ) -> tuple[list[dict[str, Any]], Callable[[], None]]:
        """The timings the batch completes, and what to remember once they are committed."""
        times: dict[UUID, dict[int, datetime]] = {}
        for event in events:
            times.setdefault(event.application_id, {})[event.version] = event.occurred_at
        timings: list[dict[str, Any]] = []
        for event in sorted(events, key=lambda e: (e.application_id, e.version)):
            stage = stage_of(type(event.payload))
            if stage is None or event.version == 1:
                continue
            known = times[event.application_id]
            started = known.get(event.version - 1) or await self._time_of(
                event.application_id, event.version - 1
            )
            if started is None:  # the previous event is not in the log: a malformed history
                raise LookupError(f"{event.application_id} has no version {event.version - 1}")
            timings.append(
                {
                    "application_id": event.application_id,
                    "stage": stage.value,
                    "started_at": started,
                    "finished_at": event.occurred_at,
                    "duration_ms": (event.occurred_at - started).total_seconds() * 1000,
                }
            )
        latest = {app: max(by_version.items()) for app, by_version in times.items()}
        return timings, lambda: self._remember(latest)

    async def _time_of(self, application_id: UUID, version: int) -> datetime | None:
        cached = self._last.get(application_id)
        if cached and cached[0] == version:
            return cached[1]
        for event in await self._history.read(application_id, after_version=version - 1):
            if event.version == version:
                return event.occurred_at
        return None

    def _remember(self, latest: dict[UUID, tuple[int, datetime]]) -> None:
        for application_id, entry in latest.items():
            cached = self._last.get(application_id)
            if cached is None or cached[0] < entry[0]:
                self._last[application_id] = entry
            self._last.move_to_end(application_id)
        while len(self._last) > self._cache_size:
            self._last.popitem(last=False)
