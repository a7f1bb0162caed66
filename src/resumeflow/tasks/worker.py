"""The Celery app and its two tasks: run a stage for a batch of applications, and sweep.

``celery -A resumeflow.tasks worker`` (or ``resumeflow worker``) starts a worker; the settings
come from ``RESUMEFLOW_*`` variables (bootstrap/settings.py). Reliability settings, and
why (STACK-NOTES §1; docs/adr/0004-async-bridge.md):

- JSON only, no results stored: the log is where outcomes live, not a result backend;
- late acks, one prefetched message: a message leaves the broker only when its stage's events
  are stored, and an idle worker can take work a busy one would otherwise hold;
- a prefork child that dies is re-sent as a retry (5.7's ``task_retry_on_worker_lost``) after
  ``lost_task_retry_seconds`` (Celery's default would be 180 s), at most ``task_max_retries``
  times, so a poison message cannot loop; a whole worker that dies leaves its messages unacked,
  and a surviving worker hands them out again once they are ``visibility_timeout`` old (it looks
  every ``unacked_restore_seconds``; kombu's default is every 100 s);
- ``visibility_timeout`` exceeds the hard time limit plus the longest countdown (checked by
  the settings), or the broker would hand a running or waiting task to a second worker;
- soft and hard time limits: prefork enforces both; in every pool the task also cancels its
  coroutine at the soft limit, so a hung call cannot hold a thread forever.

Every stage is idempotent (``run_stage`` skips what the log shows done, and appends with an
expected version), so delivery can be at least once.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from celery import Celery, signals

from resumeflow.bootstrap.distributed import WorkerRuntime, open_worker_runtime
from resumeflow.bootstrap.settings import Settings
from resumeflow.domain.events import Stage
from resumeflow.eventstore.redis_health import check_durability
from resumeflow.tasks import loop
from resumeflow.tasks.dispatch import dispatch, send
from resumeflow.tasks.stages import STAGE_TASK, run_batch
from resumeflow.tasks.sweeper import SWEEP_TASK, Sweeper

__all__ = ["app", "create_app", "register_tasks", "settings"]

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> Celery:
    """A Celery app configured from ``settings`` (tasks are registered by ``register_tasks``)."""
    # No broker named (the embedded mode's settings) leaves Celery's default; ``resumeflow
    # worker`` refuses to start that way, and nothing connects until a task is sent.
    broker = settings.broker_url or settings.redis_url
    celery = Celery("resumeflow", broker=broker, set_as_current=False)
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
        # Task events cost each message several broker writes (a fifth of a worker's CPU in
        # bench pipeline); Flower turns them on in running workers when it starts watching
        # (its --enable_events default), and `celery control enable_events` does the same.
        worker_send_task_events=settings.workers.task_events,
        task_send_sent_event=settings.workers.task_events,
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
        beat_schedule={
            "sweep": {"task": SWEEP_TASK, "schedule": settings.workers.sweep_every_seconds},
        },
    )
    return celery


def register_tasks(celery: Celery, settings: Settings) -> None:
    """Add the stage and sweep tasks to ``celery``, and the loop that runs their coroutines."""

    async def open_runtime() -> WorkerRuntime:
        runtime = await open_worker_runtime(settings)
        await check_durability(runtime.redis)  # warnings only: see docs/operations/redis.md
        return runtime

    loop.install(open_runtime)

    def make_data_dir(**_: Any) -> None:  # beat keeps its schedule there, not in the cwd
        settings.data_dir.mkdir(parents=True, exist_ok=True)

    for signal in (signals.celeryd_init, signals.beat_init):  # a worker (maybe with --beat); beat
        signal.connect(make_data_dir, weak=False, dispatch_uid=f"resumeflow.data_dir.{signal.name}")

    def run_stage_task(stage: str, application_ids: list[str], polls: int = 0) -> dict[str, Any]:
        """Run ``stage`` for each application; send what their outcomes call for."""
        runtime: WorkerRuntime = loop.process_runtime()
        plan = loop.run(
            run_batch(
                runtime.services,
                Stage(stage),
                [UUID(i) for i in application_ids],
                polls=polls,
                max_polls=settings.workers.max_pending_polls,
            ),
            timeout=settings.workers.task_soft_time_limit,
        )
        for message in plan:
            send(celery, message)
        return {"stage": stage, "applications": len(application_ids), "sent": len(plan)}

    def sweep() -> dict[str, int]:
        """Re-send the due stage of every application stuck past ``stuck_after_seconds``."""
        runtime: WorkerRuntime = loop.process_runtime()
        sweeper = Sweeper(
            runtime.services,
            runtime.redis,
            prefix=settings.log.stream_prefix,
            stuck_after=settings.workers.stuck_after_seconds,
        )
        due = loop.run(sweeper.sweep(), timeout=settings.workers.task_soft_time_limit)
        for stage, ids in due.items():
            log.warning("sweeper: %d applications stuck before %s; sent again", len(ids), stage)
            dispatch(celery, stage, ids)
        return {stage.value: len(ids) for stage, ids in due.items()}

    # celery is untyped: registering by call keeps the functions' own signatures checked
    celery.task(
        name=STAGE_TASK,
        max_retries=settings.workers.task_max_retries,
        default_retry_delay=settings.workers.lost_task_retry_seconds,
    )(run_stage_task)
    celery.task(name=SWEEP_TASK, max_retries=0)(sweep)


settings = Settings()
app = create_app(settings)
register_tasks(app, settings)
