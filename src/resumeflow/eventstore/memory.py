"""An in-memory event store: the reference implementation of the port, for fast tests."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from uuid import UUID

from resumeflow.domain.errors import ConcurrencyConflict, DuplicateEvent
from resumeflow.domain.events import EventEnvelope
from resumeflow.domain.ports import AppendBatch, AppendOutcome, FeedPage
from resumeflow.eventstore.checks import append_each, check_batch

__all__ = ["InMemoryEventStore"]


class InMemoryEventStore:
    def __init__(self) -> None:
        self._streams: dict[UUID, list[EventEnvelope]] = {}
        self._feed: list[EventEnvelope] = []
        self._ids: set[UUID] = set()
        self._lock = asyncio.Lock()

    async def append(
        self, application_id: UUID, events: Sequence[EventEnvelope], *, expected_version: int
    ) -> int:
        check_batch(application_id, events, expected_version)
        async with self._lock:
            stream = self._streams.setdefault(application_id, [])
            seen = sum(1 for e in events if e.event_id in self._ids)
            if seen == len(events):
                return len(stream)
            if seen:
                raise DuplicateEvent(f"{seen} of {len(events)} events were appended before")
            if len(stream) != expected_version:
                raise ConcurrencyConflict(application_id, expected_version, len(stream))
            stream.extend(events)
            self._feed.extend(events)
            self._ids.update(e.event_id for e in events)
            return len(stream)

    async def append_many(self, batches: Sequence[AppendBatch]) -> list[AppendOutcome]:
        return await append_each(self.append, batches)

    async def read(self, application_id: UUID, *, after_version: int = 0) -> list[EventEnvelope]:
        return list(self._streams.get(application_id, [])[after_version:])

    async def read_feed(self, *, after: str | None = None, limit: int = 1000) -> FeedPage:
        start = int(after) if after else 0
        page = self._feed[start : start + limit]
        return FeedPage(events=tuple(page), position=str(start + len(page)))
