"""Stage tasks: thin adapters from a Celery message to ``run_stage``, and what to send next.

A message names one application and the stage due: an application moves on as soon as its own
work is done, never waiting for others (no head-of-line blocking), and a redelivered message
repeats one application's stage, which the log turns into a no-op. The outcome decides the next
message, sent only after the task's events are stored:

- DONE: the next stage, at once (the ``complete`` stage does no I/O and runs inline);
- RETRY: the same stage after the use case's backoff (exponential, full jitter, bounded by
  ``max_stage_attempts`` through the ``stage_failed`` events);
- PENDING (an OCR job still running): the same stage after the adapter's poll interval, at most
  ``max_pending_polls`` times;
- SKIPPED, FAILED: nothing; but a message the broker handed out again (its worker died) whose
  stage is done sends the stage due now: that worker may have died between storing its events
  and sending the next message, which nothing else would send until the sweeper looks. A
  duplicate it may make is a no-op (the log's version check).

A fault of the log itself (Redis away) re-sends that application's stage with backoff; whatever
is lost on the way (a killed worker, a dropped message) is found by the sweeper from the log.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from uuid import UUID

from resumeflow.bootstrap.celery import Dispatch
from resumeflow.domain.events import Stage
from resumeflow.metrics import APPLICATIONS_FINISHED, STAGE_DURATION
from resumeflow.pipeline.services import Services
from resumeflow.pipeline.stages import Outcome, StageResult, run_stage

__all__ = ["run_one"]

log = logging.getLogger(__name__)


async def _run(services: Services, application_id: UUID, stage: Stage) -> StageResult:
    result = await run_stage(services, application_id, stage)
    if result.outcome is Outcome.DONE and result.next_stage is Stage.COMPLETE:
        return await run_stage(services, application_id, Stage.COMPLETE)
    return result


def _measured(stage: Stage, result: StageResult, seconds: float) -> None:
    """The stage's metrics, and its one log line (ids, stage, outcome, attempt, duration; never
    what the resume says)."""
    STAGE_DURATION.labels(stage.value, result.outcome.value).observe(seconds)
    state = result.state
    if result.outcome in (Outcome.DONE, Outcome.FAILED) and state.is_terminal:
        APPLICATIONS_FINISHED.labels(
            state.status.value,
            state.failure_stage.value if state.failure_stage else "",
            state.failure_reason or "",
        ).inc()
    log.info(
        "stage %s of %s: %s",
        stage.value,
        state.application_id,
        result.outcome.value,
        extra={
            "application_id": str(state.application_id),
            "stage": stage.value,
            "outcome": result.outcome.value,
            "attempt": result.attempt,
            "duration_ms": round(seconds * 1000, 1),
            "status": state.status.value,
        },
    )


def _bucket(seconds: float) -> float:
    """Countdowns rounded up to 100 ms."""
    return math.ceil(max(0.0, seconds) * 10) / 10


async def run_one(
    services: Services,
    stage: Stage,
    application_id: UUID,
    *,
    polls: int = 0,
    max_polls: int = 360,
    soft_limit: float | None = None,
    redelivered: bool = False,
) -> tuple[StageResult | None, Dispatch | None]:
    """Run ``stage`` of the application; its result, and the message its outcome calls for.

    Past ``soft_limit`` (the task's soft time limit: the log itself hangs) the run is cancelled
    and the stage sent again with backoff, like any fault of the log.
    """
    app = application_id
    began = time.perf_counter()
    try:
        async with asyncio.timeout(soft_limit):
            result = await _run(services, app, stage)
        _measured(stage, result, time.perf_counter() - began)
    except LookupError:
        log.error("stage %s: no application %s; dropped", stage, app)
        return None, None
    except Exception as error:  # the log or a client away: again, with backoff, bounded
        STAGE_DURATION.labels(stage.value, "error").observe(time.perf_counter() - began)
        if polls + 1 > max_polls:
            log.error("stage %s of %s keeps failing; left to the sweeper", stage, app)
            return None, None
        log.warning("stage %s of %s raised %r; sent again", stage, app, error)
        return None, Dispatch(stage, app, _bucket(services.retry.delay(polls + 1)), polls + 1)
    if result.outcome is Outcome.DONE and result.next_stage is not None:
        return result, Dispatch(result.next_stage, app)
    if result.outcome is Outcome.SKIPPED and redelivered and result.next_stage is not None:
        log.warning("stage %s of %s was done before its worker died; %s sent", stage, app,
                    result.next_stage.value)  # fmt: skip
        return result, Dispatch(result.next_stage, app)
    if result.outcome is Outcome.RETRY:
        return result, Dispatch(stage, app, _bucket(result.delay))
    if result.outcome is Outcome.PENDING:
        if polls + 1 > max_polls:
            log.error(
                "stage %s of %s pending after %s polls; left to the sweeper", stage, app, polls
            )
            return result, None
        return result, Dispatch(stage, app, _bucket(result.delay), polls + 1)
    return result, None
