"""The embedded mode's driver: run an application's due stages inline until it ends.

The distributed mode does the same walk with one Celery task per stage; both decide what runs
next from the state folded from the log, never from what the previous step returned in memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from uuid import UUID

from resumeflow.domain.application import ApplicationState
from resumeflow.domain.events import Stage
from resumeflow.pipeline.services import Services
from resumeflow.pipeline.stages import Outcome, StageResult, load_state, run_stage

__all__ = ["InProcessDispatcher", "drive"]

log = logging.getLogger(__name__)

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


class InProcessDispatcher:
    """The embedded mode's ``Dispatcher``: each application driven by an asyncio task, at most
    ``concurrency`` at once (the rest wait their turn), in the process that accepted it.

    The log decides what runs: a dispatch for an application already being driven is dropped,
    and the driver walks whatever is due. ``resume`` re-dispatches the applications a previous
    process left unfinished, so a restart loses no accepted application.
    """

    def __init__(self, services: Services, *, concurrency: int = 4) -> None:
        self._services = services
        self._limit = asyncio.Semaphore(concurrency)
        self._running: dict[UUID, asyncio.Task[None]] = {}

    async def dispatch(self, application_id: UUID, stage: Stage) -> None:
        if application_id in self._running:
            return
        task = asyncio.create_task(self._drive(application_id), name=f"drive-{application_id}")
        self._running[application_id] = task
        task.add_done_callback(lambda _: self._running.pop(application_id, None))

    async def _drive(self, application_id: UUID) -> None:
        async with self._limit:
            try:
                await drive(self._services, application_id)
            except Exception:  # logged; the state stays in the log for the next start's resume
                log.exception("driving %s stopped", application_id)

    @property
    def in_flight(self) -> int:
        return len(self._running)

    async def resume(self, application_ids: list[UUID]) -> None:
        for application_id in application_ids:
            await self.dispatch(application_id, Stage.STORE)

    async def drain(self) -> None:
        """Wait for every application dispatched so far to stop (tests, a clean shutdown)."""
        while self._running:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)

    async def aclose(self) -> None:
        """Stop driving: what was interrupted is resumed from the log at the next start."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
