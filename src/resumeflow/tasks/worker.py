"""The Celery app's two tasks: run a stage of one application, and sweep.

``celery -A resumeflow.tasks worker`` (or ``resumeflow worker``) starts a worker; the settings
come from ``RESUMEFLOW_*`` variables (bootstrap/settings.py), the app's configuration from
bootstrap/celery.py (why each reliability option: there). Here: a prefork child that dies is
re-sent after ``lost_task_retry_seconds`` (Celery's default would be 180 s), at most
``task_max_retries`` times, so a poison message cannot loop. Time limits, nested: a stage run
past ``stage_timeout_seconds`` is a retryable ``stage_timeout`` failure in the log; a task past
the soft limit (the log itself hangs) is cancelled and sent again; prefork kills a child at the
hard limit, and in every pool the thread stops waiting there, so a hung call cannot hold it.

Every stage is idempotent (``run_stage`` skips what the log shows done, and appends with an
expected version), so delivery can be at least once.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from celery import Celery, current_task, signals

from resumeflow.bootstrap.celery import STAGE_TASK, SWEEP_TASK, create_celery, send
from resumeflow.bootstrap.distributed import WorkerRuntime, open_worker_runtime
from resumeflow.bootstrap.settings import Settings
from resumeflow.bootstrap.telemetry import configure_tracing, tag_application
from resumeflow.domain.events import Stage
from resumeflow.eventstore.redis_health import check_durability
from resumeflow.tasks import loop
from resumeflow.tasks.dispatch import dispatch
from resumeflow.tasks.stages import run_one
from resumeflow.tasks.sweeper import Sweeper

__all__ = ["app", "register_tasks", "settings"]

log = logging.getLogger(__name__)


def register_tasks(celery: Celery, settings: Settings) -> None:
    """Add the stage and sweep tasks to ``celery``, and the loop that runs their coroutines."""

    async def open_runtime() -> WorkerRuntime:
        runtime = await open_worker_runtime(settings)
        await check_durability(runtime.redis)  # warnings only: see docs/operations/redis.md
        return runtime

    loop.install(open_runtime)

    tracing: list[Any] = []

    def start_tracing(**_: Any) -> None:  # in each process that runs tasks (after any fork)
        provider = configure_tracing("resumeflow-worker")
        if provider is not None:
            from opentelemetry.instrumentation.celery import CeleryInstrumentor

            CeleryInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
            tracing.append(provider)

    def stop_tracing(**_: Any) -> None:
        for provider in tracing:
            provider.shutdown()  # the last spans out before the process ends
        tracing.clear()

    signals.worker_process_init.connect(
        start_tracing, weak=False, dispatch_uid="resumeflow.tracing.process_init"
    )
    signals.worker_process_shutdown.connect(
        stop_tracing, weak=False, dispatch_uid="resumeflow.tracing.process_shutdown"
    )

    def on_worker_init(sender: Any = None, **_: Any) -> None:
        if loop.runs_tasks_in_this_process(sender):  # the threads pool: no process_init
            start_tracing()

    signals.worker_init.connect(on_worker_init, weak=False, dispatch_uid="resumeflow.tracing.init")
    signals.worker_shutdown.connect(
        stop_tracing, weak=False, dispatch_uid="resumeflow.tracing.shutdown"
    )

    def run_stage_task(stage: str, application_id: str, polls: int = 0) -> dict[str, Any]:
        """Run ``stage`` of the application; send what its outcome calls for."""
        runtime: WorkerRuntime = loop.process_runtime()
        tag_application(application_id)
        delivery = getattr(current_task.request, "delivery_info", None) or {}
        result, message = loop.run(
            run_one(
                runtime.services,
                Stage(stage),
                UUID(application_id),
                polls=polls,
                max_polls=settings.workers.max_pending_polls,
                soft_limit=settings.workers.task_soft_time_limit,
                redelivered=bool(delivery.get("redelivered")),
            ),
            timeout=settings.workers.task_time_limit,
        )
        if message is not None:
            send(celery, message)
        return {
            "stage": stage,
            "outcome": result.outcome.value if result else None,
            "next": message.stage.value if message else None,
        }

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
app = create_celery(settings)
register_tasks(app, settings)
