"""Checks shared by every event store implementation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from uuid import UUID

from resumeflow.domain.errors import ConcurrencyConflict, DuplicateEvent
from resumeflow.domain.events import EventEnvelope
from resumeflow.domain.ports import AppendBatch, AppendOutcome

__all__ = ["append_each", "check_batch"]

Append = Callable[..., Awaitable[int]]


def check_batch(application_id: UUID, events: Sequence[EventEnvelope], expected: int) -> None:
    """Refuse a malformed batch before touching storage: it is a programming error, not a race."""
    if not events:
        raise ValueError("append needs at least one event")
    for offset, event in enumerate(events, start=1):
        if event.application_id != application_id:
            raise ValueError(f"event {event.event_id} belongs to {event.application_id}")
        if event.version != expected + offset:
            raise ValueError(
                f"event {event.event_id} has version {event.version}, expected {expected + offset}"
            )


async def append_each(append: Append, batches: Sequence[AppendBatch]) -> list[AppendOutcome]:
    """``append_many`` for stores without a faster path: one ``append`` per batch, in order.

    Every batch is checked first, so a malformed one refuses the call before anything is written.
    """
    for batch in batches:
        check_batch(batch.application_id, batch.events, batch.expected_version)
    outcomes: list[AppendOutcome] = []
    for batch in batches:
        try:
            outcomes.append(
                await append(
                    batch.application_id, batch.events, expected_version=batch.expected_version
                )
            )
        except (ConcurrencyConflict, DuplicateEvent) as error:
            outcomes.append(error)
    return outcomes
