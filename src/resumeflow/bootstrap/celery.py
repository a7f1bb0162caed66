"""The Celery app's configuration, and the one message the stages exchange through it.

Both sides build their app here: the workers (``tasks/``, which add the tasks to it) and the
producers that only send (the API, the CLI). Configured for reliability (STACK-NOTES §1;
docs/adr/0004-async-bridge.md):

- JSON only, no results stored: the log is where outcomes live, not a result backend;
- late acks, one prefetched message: a message leaves the broker only when its stage's events
  are stored, and an idle worker can take work a busy one would otherwise hold;
- a prefork child that dies is re-sent as a retry (5.7's ``task_retry_on_worker_lost``); a whole
  worker that dies leaves its messages unacked, and a surviving worker hands them out again once
  they are ``visibility_timeout`` old (it looks every ``unacked_restore_seconds``);
- ``visibility_timeout`` exceeds the hard time limit plus the longest countdown (checked by the
  settings), or the broker would hand a running or waiting task to a second worker;
- a Redis broker goes through bootstrap/broker.py's transport, with which a worker reconnects
  after a Redis restart instead of exiting;
- beat keeps its schedule under the data directory, never in the working directory.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from celery import Celery
from celery.beat import PersistentScheduler

from resumeflow.bootstrap.broker import TRANSPORT
from resumeflow.bootstrap.settings import Settings
from resumeflow.domain.events import Stage

__all__ = [
    "STAGE_TASK",
    "SWEEP_TASK",
    "CeleryDispatcher",
    "DataDirScheduler",
    "Dispatch",
    "create_celery",
    "send",
]

STAGE_TASK = "resumeflow.run_stage"
PUBLISH_RETRY = {"max_retries": 30, "interval_start": 0, "interval_step": 0.5, "interval_max": 2}
"""A send retries for about a minute (0 + 0.5 + 1 + 1.5 + 2 x 27 s) before it raises."""
SWEEP_TASK = "resumeflow.sweep"


class DataDirScheduler(PersistentScheduler):  # type: ignore[misc]  # celery ships no types
    """Celery's file-backed beat schedule, which first makes the file's folder (the data
    directory): ``celery beat`` opens the file before any signal a handler could make it in."""

    def setup_schedule(self) -> None:
        Path(self.schedule_filename).parent.mkdir(parents=True, exist_ok=True)
        super().setup_schedule()


SCHEDULER = f"{__name__}:DataDirScheduler"


@dataclass(frozen=True)
class Dispatch:
    """One message: run ``stage`` of one application after ``countdown`` seconds."""

    stage: Stage
    application_id: UUID
    countdown: float = 0.0
    polls: int = 0


def send(app: Celery, message: Dispatch) -> None:
    """Send ``message`` (only once the event it depends on is stored)."""
    app.send_task(
        STAGE_TASK,
        args=(message.stage.value, str(message.application_id), message.polls),
        countdown=message.countdown or None,
    )


class CeleryDispatcher:
    """The distributed mode's ``Dispatcher``: one message per application and stage."""

    def __init__(self, app: Celery) -> None:
        self._app = app

    async def dispatch(self, application_id: UUID, stage: Stage) -> None:
        # kombu's publish is blocking socket I/O: off the event loop
        await asyncio.to_thread(send, self._app, Dispatch(stage, application_id))


def create_celery(settings: Settings) -> Celery:
    """A Celery app configured from ``settings`` (tasks are registered by ``register_tasks``)."""
    # No broker named (the embedded mode's settings) leaves Celery's default; ``resumeflow
    # worker`` refuses to start that way, and nothing connects until a task is sent.
    broker = settings.broker_url or settings.redis_url
    celery = Celery("resumeflow", broker=broker, set_as_current=False)
    if broker and broker.split("://", 1)[0] in ("redis", "rediss"):
        celery.conf.broker_transport = TRANSPORT  # rides out a Redis restart: bootstrap/broker.py
    celery.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_default_queue=settings.workers.queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_retry_on_worker_lost=True,
        task_acks_on_failure=True,
        task_acks_on_timeout=True,
        worker_prefetch_multiplier=1,
        worker_pool=settings.workers.worker_pool,
        worker_concurrency=settings.workers.worker_concurrency,
        worker_hijack_root_logger=False,
        task_soft_time_limit=settings.workers.task_soft_time_limit,
        task_time_limit=settings.workers.task_time_limit,
        broker_transport_options={
            "visibility_timeout": settings.workers.visibility_timeout,
            "unacked_restore_interval": settings.workers.unacked_restore_seconds,
            "unacked_restore_throttle": 1,  # scan on every interval (the index is a sorted set)
        },
        broker_connection_retry_on_startup=True,
        # a stage's next message is sent after its events are stored: a publish that meets a
        # restarting broker waits for it (~1 minute) rather than leaving the sweeper to find it
        task_publish_retry=True,
        task_publish_retry_policy=PUBLISH_RETRY,
        # Task events cost each message several broker writes (a fifth of a worker's CPU in
        # bench pipeline); Flower turns them on in running workers when it starts watching
        # (its --enable_events default), and `celery control enable_events` does the same.
        worker_send_task_events=settings.workers.task_events,
        task_send_sent_event=settings.workers.task_events,
        beat_scheduler=SCHEDULER,
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
        beat_schedule={
            "sweep": {"task": SWEEP_TASK, "schedule": settings.workers.sweep_every_seconds},
        },
    )
    return celery
