"""Sending stage messages: the one place that knows the stage task's name and arguments.

Producers (the API after ``submit_application``, the stage tasks, the sweeper, the benchmark)
call ``dispatch`` only after the event the message depends on is stored, so a message never
names work the log does not yet show.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from celery import Celery

from resumeflow.bootstrap.celery import Dispatch, send
from resumeflow.domain.events import Stage

__all__ = ["dispatch"]


def dispatch(
    app: Celery, stage: Stage, application_ids: Sequence[UUID], *, countdown: float = 0.0
) -> int:
    """Send ``stage`` for each id, one message each; returns messages sent."""
    for application_id in application_ids:
        send(app, Dispatch(stage, application_id, countdown))
    return len(application_ids)
