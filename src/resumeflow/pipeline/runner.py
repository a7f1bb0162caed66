"""The embedded mode's driver: run an application's due stages inline until it ends.

The distributed mode does the same walk with one Celery task per stage; both decide what runs
next from the state folded from the log, never from what the previous step returned in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from uuid import UUID

from resumeflow.domain.application import ApplicationState
from resumeflow.domain.events import Stage
from resumeflow.pipeline.services import Services
from resumeflow.pipeline.stages import Outcome, StageResult, load_state, run_stage

__all__ = ["drive"]

Progress = Callable[[Stage, StageResult], None]


async def drive(
    services: Services,
    application_id: UUID,
    *,
    on_step: Progress | None = None,
    max_wait_seconds: float = 30.0,
) -> ApplicationState:
    """Run stages until the application is completed or failed (or nothing more is due)."""
    state, _ = await load_state(services, application_id)
    while state.next_stage is not None and not state.is_terminal:
        stage = state.next_stage
        result = await run_stage(services, application_id, stage)
        if on_step is not None:
            on_step(stage, result)
        if result.outcome in (Outcome.RETRY, Outcome.PENDING):
            await asyncio.sleep(min(result.delay, max_wait_seconds))
        state = result.state
    return state
