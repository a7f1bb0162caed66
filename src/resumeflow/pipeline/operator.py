"""What an operator does with an application: retry a failed one, replay its history, see its
timeline."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from resumeflow.domain.application import ApplicationState, Status, apply, stage_of
from resumeflow.domain.errors import IllegalTransition
from resumeflow.domain.events import (
    ApplicationFailed,
    ApplicationRetried,
    EventEnvelope,
    EventPayload,
    Stage,
    StageFailed,
    StageOutcome,
)
from resumeflow.pipeline.services import Services
from resumeflow.pipeline.stages import load_state

__all__ = ["TimelineEntry", "replay", "retry_application", "timeline"]


async def retry_application(
    services: Services, application_id: UUID, *, reason: str = "", requested_by: str = "operator"
) -> ApplicationState:
    """Make the stage that failed due again. Only a failed application can be retried."""
    state, last = await load_state(services, application_id)
    if state.status is not Status.FAILED:
        raise IllegalTransition(f"application {application_id} is {state.status}, not failed")
    event = EventEnvelope.new(
        application_id=application_id,
        version=state.version + 1,
        payload=ApplicationRetried(reason=reason, requested_by=requested_by),
        correlation_id=state.correlation_id,
        causation_id=last.event_id,
        traceparent=services.traceparent(),
        occurred_at=services.clock(),
    )
    await services.events.append(application_id, [event], expected_version=state.version)
    return apply(state, event)


async def replay(
    services: Services, application_id: UUID
) -> list[tuple[EventEnvelope, ApplicationState]]:
    """Every event of the application beside the state it left: how it got where it is."""
    history = await services.events.read(application_id)
    if not history:
        raise LookupError(f"no application {application_id}")
    steps: list[tuple[EventEnvelope, ApplicationState]] = []
    state: ApplicationState | None = None
    for event in history:
        state = apply(state, event)
        steps.append((event, state))
    return steps


@dataclass(frozen=True)
class TimelineEntry:
    """One event on the application's time axis; a stage run's wait and work when it is one."""

    event: EventEnvelope
    at_seconds: float
    """Since the application was received."""
    stage: Stage | None = None
    worker: str | None = None
    attempt: int | None = None
    waited_seconds: float | None = None
    """From when the stage was due (the previous event) to when a worker began it."""
    worked_seconds: float | None = None
    """From when the worker began it to the event."""


async def timeline(services: Services, application_id: UUID) -> list[TimelineEntry]:
    """The application's events on one time axis, each stage run split into the time it waited
    in a queue (or a retry's backoff) and the time a worker spent on it."""
    history = await services.events.read(application_id)
    if not history:
        raise LookupError(f"no application {application_id}")
    start = history[0].occurred_at
    entries: list[TimelineEntry] = []
    previous: EventEnvelope | None = None
    for event in history:
        at = (event.occurred_at - start).total_seconds()
        payload = event.payload
        run = payload.run if isinstance(payload, StageOutcome) else None
        before = previous.payload if previous is not None else None
        same_run = isinstance(before, StageOutcome) and before.run == run  # failed, then gave up
        if run is None or previous is None or same_run:
            entries.append(TimelineEntry(event, at))
        else:
            due = previous.occurred_at
            entries.append(
                TimelineEntry(
                    event,
                    at,
                    stage=_stage_of(payload),
                    worker=run.worker,
                    attempt=run.attempt,
                    waited_seconds=max(0.0, (run.started_at - due).total_seconds()),
                    worked_seconds=max(0.0, (event.occurred_at - run.started_at).total_seconds()),
                )
            )
        previous = event
    return entries


def _stage_of(payload: EventPayload) -> Stage | None:
    if isinstance(payload, StageFailed | ApplicationFailed):
        return payload.stage
    return stage_of(type(payload))
