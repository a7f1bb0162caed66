"""What an operator does with an application: retry a failed one, replay its history."""

from __future__ import annotations

from uuid import UUID

from resumeflow.domain.application import ApplicationState, Status, apply
from resumeflow.domain.errors import IllegalTransition
from resumeflow.domain.events import ApplicationRetried, EventEnvelope
from resumeflow.pipeline.services import Services
from resumeflow.pipeline.stages import load_state

__all__ = ["replay", "retry_application"]


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
