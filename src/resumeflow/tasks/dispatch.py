"""Sending stage messages: the one place that knows the stage task's name and arguments.

Producers (the API after ``submit_application``, the stage tasks, the sweeper, the benchmark)
call ``dispatch`` only after the event the message depends on is stored, so a message never
names work the log does not yet show.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

from celery import Celery

from resumeflow.bootstrap.celery import Dispatch, send
from resumeflow.domain.events import Stage
from resumeflow.tasks.stages import MAX_BATCH

__all__ = ["dispatch"]


def dispatch(
    app: Celery, stage: Stage, application_ids: Sequence[UUID], *, countdown: float = 0.0
) -> int:
    """Send ``stage`` for the ids in batches of at most MAX_BATCH; returns messages sent."""
    messages: Iterable[Dispatch] = (
        Dispatch(stage, tuple(application_ids[i : i + MAX_BATCH]), countdown)
        for i in range(0, len(application_ids), MAX_BATCH)
    )
    sent = 0
    for message in messages:
        send(app, message)
        sent += 1
    return sent
