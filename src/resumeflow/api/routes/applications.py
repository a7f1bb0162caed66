"""``/v1/applications``: submit, read, list, replay, retry, and follow an application.

A read falls back to the log when the read model has not caught up yet (the distributed mode's
projector runs behind the API by milliseconds), so a client reading right after a 202 sees its
application. A submitter sees only what it submitted: anything else is 404, as if absent.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, File, Form, Header, Query, Response, UploadFile
from fastapi.sse import EventSourceResponse, ServerSentEvent

from resumeflow.api.auth import Caller
from resumeflow.api.deps import AnyCaller, Operator, Runtime, Submitter
from resumeflow.api.problems import ProblemError, problem_response
from resumeflow.api.schemas import (
    ApplicationAccepted,
    ApplicationOut,
    ApplicationPage,
    ApplicationSummaryOut,
    Failure,
    HistoryOut,
    HistoryStep,
    StatusChange,
    TimelineOut,
    TimelineStep,
)
from resumeflow.bootstrap.api import OPEN_STATUSES, ApiRuntime
from resumeflow.bootstrap.settings import Settings
from resumeflow.bootstrap.telemetry import tag_application, trace_id_of, trace_link
from resumeflow.domain.application import fold
from resumeflow.domain.errors import DomainError, UploadRejected
from resumeflow.domain.events import EventEnvelope
from resumeflow.metrics import APPLICATIONS_SUBMITTED
from resumeflow.pipeline.operator import TimelineEntry, replay, retry_application, timeline
from resumeflow.pipeline.submit import SubmitApplication, submit_application
from resumeflow.projections import queries
from resumeflow.projections.applications import row_from_state

__all__ = ["applications_router", "timeline_out"]

_TERMINAL = ("completed", "failed")


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    """A row with its JSON columns as values (rows built from a state carry them as text)."""
    out = dict(row)
    for name in ("parsed", "json_resume", "score_breakdown", "embedded_value"):
        if isinstance(out.get(name), str):
            out[name] = json.loads(out[name])
    return out


def _failure(row: dict[str, Any]) -> Failure | None:
    if row["failure_reason"] is None:
        return None
    return Failure(
        stage=row["failure_stage"], reason=row["failure_reason"], detail=row["failure_detail"]
    )


def _out(row: dict[str, Any]) -> ApplicationOut:
    return ApplicationOut(
        id=row["id"],
        job_post_id=row["job_post_id"],
        name=row["name"],
        email=row["email"],
        status=row["status"],
        next_stage=row["next_stage"],
        filename=row["filename"],
        format=row["format"],
        size_bytes=row["size_bytes"],
        page_count=row["page_count"],
        ocr_pages=row["ocr_pages"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        failure=_failure(row),
        parsed=row["parsed"],
        json_resume=row["json_resume"],
        score=row["score"],
        score_breakdown=row["score_breakdown"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _row(runtime: ApiRuntime, application_id: UUID, caller: Caller) -> dict[str, Any]:
    """The application as the read model has it, or as the log has it when newer; 404 for
    what does not exist or is not the caller's to see."""
    tag_application(application_id)
    async with runtime.engine.connect() as conn:
        row = await queries.application_row(conn, application_id)
    if row is None:
        state = fold(await runtime.services.events.read(application_id))
        row = _decoded(row_from_state(state)) if state is not None else None
    if row is None or (not caller.can_read_all() and row["submitted_by"] != caller.key_id):
        raise ProblemError(404, "not_found", f"no application {application_id}")
    return row


async def _visible(runtime: Runtime, caller: AnyCaller, application_id: UUID) -> Caller:
    """The caller, once the application is known to exist and be theirs to see (checked
    before a streamed answer starts, so a 404 is still a 404)."""
    await _row(runtime, application_id, caller)
    return caller


Visible = Annotated[Caller, Depends(_visible)]


def applications_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/v1/applications", tags=["applications"])
    body_limit = settings.max_upload_bytes + settings.api.upload_overhead_bytes
    backlog: dict[str, float] = {"at": 0.0, "count": 0.0}

    async def _refuse_when_full(runtime: ApiRuntime) -> None:
        limit = runtime.settings.api.max_backlog
        if time.monotonic() - backlog["at"] > 1.0:  # counted at most once a second
            async with runtime.engine.connect() as conn:
                backlog["count"] = await queries.count_in(conn, OPEN_STATUSES, up_to=limit)
            backlog["at"] = time.monotonic()
        if backlog["count"] >= limit:
            raise ProblemError(
                429,
                "backlog_full",
                f"{limit} or more applications are waiting to be processed; try again shortly",
                headers={"Retry-After": "10"},
            )

    @router.post(
        "",
        status_code=202,
        response_model=ApplicationAccepted,
        max_body_size=body_limit,
        responses={
            409: problem_response("closed job post, or an Idempotency-Key reused"),
            413: problem_response("the file is over the upload limit"),
            415: problem_response("not a PDF, DOCX, Word XML, image or text document"),
            422: problem_response("empty file, bad email, unknown job post"),
            429: problem_response("the backlog is full: Retry-After says when to come back"),
        },
    )
    async def submit(
        runtime: Runtime,
        caller: Submitter,
        response: Response,
        file: Annotated[UploadFile, File(description="the resume")],
        name: Annotated[str, Form(min_length=1, max_length=300)],
        email: Annotated[str, Form(min_length=3, max_length=320)],
        job_post_id: Annotated[UUID, Form()],
        idempotency_key: Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                min_length=1,
                max_length=200,
                description="a repeated submit with the same key returns the first answer",
            ),
        ] = None,
    ) -> ApplicationAccepted:
        """Accept a resume for a job post (202); its stages run after the answer."""
        await _refuse_when_full(runtime)
        data = await file.read()
        try:
            accepted = await submit_application(
                runtime.services,
                SubmitApplication(
                    job_post_id=job_post_id,
                    email=email,
                    name=name,
                    filename=file.filename or "upload",
                    content_type=file.content_type,
                    data=data,
                    submitted_by=caller.key_id,
                    idempotency_key=idempotency_key,
                ),
                runtime.dispatcher,
            )
        except UploadRejected as refused:
            APPLICATIONS_SUBMITTED.labels(refused.reason).inc()
            raise
        except DomainError as refused:
            APPLICATIONS_SUBMITTED.labels(type(refused).__name__).inc()
            raise
        APPLICATIONS_SUBMITTED.labels("repeated" if accepted.repeated else "accepted").inc()
        tag_application(accepted.application_id)
        state = accepted.state
        location = f"/v1/applications/{accepted.application_id}"
        response.headers["Location"] = location
        return ApplicationAccepted(
            id=accepted.application_id,
            status=state.status.value,
            job_post_id=state.job_post_id,
            created_at=state.created_at,
            repeated=accepted.repeated,
            links={
                "self": location,
                "events": f"{location}/events",
                "stream": f"{location}/stream",
            },
        )

    @router.get("/{application_id}", response_model=ApplicationOut)
    async def get(runtime: Runtime, caller: AnyCaller, application_id: UUID) -> ApplicationOut:
        """The application: its status, and once there its parsed resume, score and breakdown."""
        return _out(await _row(runtime, application_id, caller))

    @router.get("", response_model=ApplicationPage)
    async def list_(
        runtime: Runtime,
        caller: AnyCaller,
        status: str | None = None,
        job_post_id: UUID | None = None,
        email: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        updated_from: datetime | None = None,
        updated_to: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Query(max_length=500)] = None,
    ) -> ApplicationPage:
        """Applications, newest first, a page at a time (pass ``next_cursor`` back as
        ``cursor``). A submitter lists only its own."""
        shape = queries.newest_first(
            queries.ApplicationFilter(
                status=status,
                job_post_id=job_post_id,
                email=email,
                created_from=created_from,
                created_to=created_to,
                updated_from=updated_from,
                updated_to=updated_to,
                submitted_by=None if caller.can_read_all() else caller.key_id,
            )
        )
        page = await _page(runtime, shape, cursor, limit)
        return ApplicationPage(
            items=[ApplicationSummaryOut.model_validate(vars(i)) for i in page.items],
            next_cursor=page.next_cursor,
        )

    @router.get("/{application_id}/events", response_model=HistoryOut)
    async def events(
        runtime: Runtime,
        caller: AnyCaller,
        application_id: UUID,
        version: Annotated[int | None, Query(ge=1, description="the state at this version")] = None,
    ) -> HistoryOut:
        """Every event and the state it left: how the application got where it is."""
        await _row(runtime, application_id, caller)
        steps = await replay(runtime.services, application_id)
        if version is not None:
            if version > len(steps):
                raise ProblemError(404, "not_found", f"the application has {len(steps)} events")
            steps = steps[:version]
        template = runtime.settings.trace_url
        return HistoryOut(
            application_id=application_id,
            steps=[_step(event, state, template) for event, state in steps],
        )

    @router.get("/{application_id}/timeline", response_model=TimelineOut)
    async def timeline_(runtime: Runtime, caller: AnyCaller, application_id: UUID) -> TimelineOut:
        """The application on one time axis: each event, each stage run with its worker and
        attempt, the time it waited for a worker and the time it was worked on, its trace."""
        await _row(runtime, application_id, caller)
        entries = await timeline(runtime.services, application_id)
        state = fold(e.event for e in entries)
        return timeline_out(entries, state, runtime.settings.trace_url)

    @router.post(
        "/{application_id}/retry",
        status_code=202,
        response_model=ApplicationOut,
        responses={409: problem_response("the application is not failed")},
    )
    async def retry(runtime: Runtime, caller: Operator, application_id: UUID) -> ApplicationOut:
        """Retry a failed application from the stage that failed."""
        await _row(runtime, application_id, caller)
        state = await retry_application(
            runtime.services, application_id, reason="requested over the API", requested_by="api"
        )
        if state.next_stage is not None:
            await runtime.dispatcher.dispatch(application_id, state.next_stage)
        return _out(_decoded(row_from_state(state)))

    @router.get(
        "/{application_id}/stream",
        response_class=EventSourceResponse,
        responses={200: {"description": "server-sent events: one `status` event per change"}},
    )
    async def stream(
        runtime: Runtime, caller: Visible, application_id: UUID
    ) -> AsyncIterable[ServerSentEvent]:
        """Server-sent events of the application's status changes, until it ends."""
        async for change in _changes(runtime, application_id, caller):
            yield change

    return router


async def _page(
    runtime: ApiRuntime, shape: queries.QueryShape, cursor: str | None, limit: int
) -> queries.Page:
    try:
        async with runtime.engine.connect() as conn:
            return await queries.fetch_page(conn, shape, after=cursor, limit=limit)
    except (ValueError, TypeError) as bad:
        raise ProblemError(422, "invalid_cursor", "the cursor is not one this API gave") from bad


async def _changes(
    runtime: ApiRuntime, application_id: UUID, caller: Caller
) -> AsyncIterator[ServerSentEvent]:
    poll = runtime.settings.api.stream_poll_seconds
    deadline = time.monotonic() + runtime.settings.api.stream_max_seconds
    seen = 0
    while time.monotonic() < deadline:
        row = await _row(runtime, application_id, caller)
        if row["version"] > seen:
            seen = row["version"]
            change = StatusChange(
                id=row["id"],
                status=row["status"],
                version=row["version"],
                next_stage=row["next_stage"],
                score=row["score"],
                failure=_failure(row),
                updated_at=row["updated_at"],
            )
            yield ServerSentEvent(
                data=change.model_dump(mode="json"), event="status", id=str(row["version"])
            )
            if row["status"] in _TERMINAL:
                return
        await asyncio.sleep(poll)


def _step(event: EventEnvelope, state: Any, trace_url: str | None) -> HistoryStep:
    payload = event.payload.model_dump(mode="json")
    if isinstance(payload.get("text"), str) and len(payload["text"]) > 2000:
        payload["text"] = payload["text"][:2000] + f"... ({len(event.payload.text)} chars)"  # type: ignore[attr-defined]
    if isinstance(payload.get("vector"), list):
        payload["vector"] = f"[{len(payload['vector'])} floats]"
    summary = state.model_dump(mode="json", exclude={"text", "embedding", "resume"})
    return HistoryStep(
        version=event.version,
        type=event.type,
        event_id=event.event_id,
        occurred_at=event.occurred_at,
        causation_id=event.causation_id,
        traceparent=event.traceparent,
        trace_id=trace_id_of(event.traceparent),
        trace_link=trace_link(trace_id_of(event.traceparent), trace_url),
        payload=payload,
        state=summary,
    )


def timeline_out(entries: list[TimelineEntry], state: Any, trace_url: str | None) -> TimelineOut:
    """The timeline's answer (the API's and the CLI's ``--json``)."""
    steps = []
    for entry in entries:
        event = entry.event
        payload = event.payload
        note = getattr(payload, "reason", None) or None
        steps.append(
            TimelineStep(
                version=event.version,
                type=event.type,
                at=event.occurred_at,
                at_seconds=round(entry.at_seconds, 3),
                stage=entry.stage.value if entry.stage else None,
                worker=entry.worker,
                attempt=entry.attempt,
                waited_seconds=_rounded(entry.waited_seconds),
                worked_seconds=_rounded(entry.worked_seconds),
                note=note,
                trace_id=trace_id_of(event.traceparent),
            )
        )
    traces = list(dict.fromkeys(s.trace_id for s in steps if s.trace_id))
    return TimelineOut(
        application_id=state.application_id,
        status=state.status.value,
        elapsed_seconds=round(entries[-1].at_seconds, 3),
        waited_seconds=round(sum(e.waited_seconds or 0 for e in entries), 3),
        worked_seconds=round(sum(e.worked_seconds or 0 for e in entries), 3),
        trace_ids=traces,
        trace_links=[link for t in traces if (link := trace_link(t, trace_url))],
        steps=steps,
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
