"""Stage tasks: thin adapters from a Celery message to ``run_stage``, and what to send next.

A message names a stage and a batch of application ids (one id when a producer sends one at a
time; the benchmark and the sweeper send many). Each id runs through ``run_stage`` concurrently on
the process's event loop, and the outcomes decide the next messages, sent only after the task's
events are stored:

- DONE: the next stage, at once (the ``complete`` stage does no I/O and runs inline);
- RETRY: the same stage after the use case's backoff (exponential, full jitter, bounded by
  ``max_stage_attempts`` through the ``stage_failed`` events);
- PENDING (an OCR job still running): the same stage after the adapter's poll interval, at most
  ``max_pending_polls`` times;
- SKIPPED, FAILED: nothing. A redelivered message thus finds its stage done and sends nothing.

A fault of the log itself (Redis away) re-sends that application's stage with backoff; whatever
is lost on the way (a killed worker, a dropped message) is found by the sweeper from the log.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import defaultdict
from collections.abc import Sequence
from uuid import UUID

from resumeflow.bootstrap.celery import Dispatch
from resumeflow.domain.events import Stage
from resumeflow.pipeline.services import Services
from resumeflow.pipeline.stages import Outcome, StageResult, run_stage

__all__ = ["MAX_BATCH", "run_batch"]

MAX_BATCH = 50
"""Applications per message: enough to spread the broker's per-message cost, few enough that a
redelivered message repeats little."""

log = logging.getLogger(__name__)


async def _run(services: Services, application_id: UUID, stage: Stage) -> StageResult:
    result = await run_stage(services, application_id, stage)
    if result.outcome is Outcome.DONE and result.next_stage is Stage.COMPLETE:
        return await run_stage(services, application_id, Stage.COMPLETE)
    return result


def _bucket(seconds: float) -> float:
    """Countdowns rounded up to 100 ms, so a batch's retries share few messages."""
    return math.ceil(max(0.0, seconds) * 10) / 10


async def run_batch(
    services: Services,
    stage: Stage,
    application_ids: Sequence[UUID],
    *,
    polls: int = 0,
    max_polls: int = 360,
) -> list[Dispatch]:
    """Run ``stage`` for every id at once; return the messages their outcomes call for."""
    results = await asyncio.gather(
        *(_run(services, app, stage) for app in application_ids), return_exceptions=True
    )
    plan: dict[tuple[Stage, float, int], list[UUID]] = defaultdict(list)
    for app, result in zip(application_ids, results, strict=True):
        if isinstance(result, LookupError):
            log.error("stage %s: no application %s; dropped", stage, app)
        elif isinstance(result, BaseException):
            if polls + 1 > max_polls:
                log.error("stage %s of %s keeps failing; left to the sweeper", stage, app)
                continue
            log.warning("stage %s of %s raised %r; sent again", stage, app, result)
            plan[(stage, _bucket(services.retry.delay(polls + 1)), polls + 1)].append(app)
        elif result.outcome is Outcome.DONE and result.next_stage is not None:
            plan[(result.next_stage, 0.0, 0)].append(app)
        elif result.outcome is Outcome.RETRY:
            plan[(stage, _bucket(result.delay), 0)].append(app)
        elif result.outcome is Outcome.PENDING:
            if polls + 1 > max_polls:
                log.error(
                    "stage %s of %s pending after %s polls; left to the sweeper", stage, app, polls
                )
                continue
            plan[(stage, _bucket(result.delay), polls + 1)].append(app)
    return [
        Dispatch(stage=s, application_ids=tuple(ids[i : i + MAX_BATCH]), countdown=c, polls=p)
        for (s, c, p), ids in plan.items()
        for i in range(0, len(ids), MAX_BATCH)
    ]
