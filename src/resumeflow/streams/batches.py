"""Checks shared by every event store implementation."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from resumeflow.domain.events import EventEnvelope

__all__ = ["check_batch"]


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
