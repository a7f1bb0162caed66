"""The ``stage_timings`` read model: how long each stage of each application took.

A stage's duration runs from the event that made it due (the application's previous event: the
last stage's success, a failed attempt, an operator's retry) to the event recording its success.
A timing depends only on two immutable events, so redelivered and reordered events are harmless;
the guard on ``finished_at`` keeps a stage's latest success when it succeeded more than once
(a retried application).

The previous event's time comes from the batch, from a small cache of the latest event seen per
application, or from the application's history.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Table

from resumeflow.database.tables import stage_timings
from resumeflow.domain.application import stage_of
from resumeflow.domain.events import EventEnvelope
from resumeflow.projections.model import Changes, Reads, Upsert

__all__ = ["StageTimingsProjection"]


class StageTimingsProjection:
    name = "stage_timings"
    tables: tuple[Table, ...] = (stage_timings,)

    def __init__(self, *, cache_size: int = 0) -> None:
        self._last: OrderedDict[UUID, tuple[int, datetime]] = OrderedDict()
        self._cache_size = cache_size

    async def changes(self, events: Sequence[EventEnvelope], reads: Reads) -> Changes:
        times: dict[UUID, dict[int, datetime]] = {}
        for event in events:
            times.setdefault(event.application_id, {})[event.version] = event.occurred_at
        rows: list[dict[str, Any]] = []
        for event in events:
            stage = stage_of(type(event.payload))
            if stage is None or event.version == 1:
                continue
            started = times[event.application_id].get(event.version - 1)
            if started is None:
                started = await self._time_of(event.application_id, event.version - 1, reads)
            rows.append(
                {
                    "application_id": event.application_id,
                    "stage": stage.value,
                    "started_at": started,
                    "finished_at": event.occurred_at,
                    "duration_ms": (event.occurred_at - started).total_seconds() * 1000,
                }
            )
        latest = {app: max(by_version.items()) for app, by_version in times.items()}
        upserts = [Upsert(stage_timings, rows, guard="finished_at")] if rows else []
        return Changes(upserts, on_commit=lambda: self._keep(latest))

    async def _time_of(self, application_id: UUID, version: int, reads: Reads) -> datetime:
        cached = self._last.get(application_id)
        if cached and cached[0] == version:
            return cached[1]
        for event in await reads.history(application_id, after_version=version - 1):
            if event.version == version:
                return event.occurred_at
        raise LookupError(f"{application_id} has no version {version} in its history")

    def _keep(self, latest: dict[UUID, tuple[int, datetime]]) -> None:
        if not self._cache_size:
            return
        for application_id, entry in latest.items():
            cached = self._last.get(application_id)
            if cached is None or cached[0] < entry[0]:
                self._last[application_id] = entry
            self._last.move_to_end(application_id)
        while len(self._last) > self._cache_size:
            self._last.popitem(last=False)
