"""The application aggregate: its state, the transitions its events may make, and the fold.

    received -> stored -> text_extracted -> parsed -> embedded -> scored -> completed

Each success event is legal only when its stage is the one due (``next_stage``). Any stage may
record ``stage_failed`` (attempt n, retryable or not); a non-retryable failure must be followed by
``failed``. ``failed`` is terminal until an operator's ``retried`` sets the failed stage due again.
``completed`` is terminal for good. Versions are consecutive from 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict

from resumeflow.domain.documents import DocumentFormat
from resumeflow.domain.errors import IllegalTransition
from resumeflow.domain.events import (
    ApplicationCompleted,
    ApplicationFailed,
    ApplicationReceived,
    ApplicationRetried,
    ApplicationScored,
    EventEnvelope,
    EventPayload,
    FileStored,
    PageSummary,
    ResumeEmbedded,
    ResumeParsed,
    Stage,
    StageFailed,
    TextExtracted,
)
from resumeflow.domain.resume import ParsedResume
from resumeflow.domain.scoring import ScoreBreakdown

__all__ = ["ApplicationState", "Status", "apply", "fold", "stage_of", "status_of"]


class Status(StrEnum):
    RECEIVED = "received"
    STORED = "stored"
    TEXT_EXTRACTED = "text_extracted"
    PARSED = "parsed"
    EMBEDDED = "embedded"
    SCORED = "scored"
    COMPLETED = "completed"
    STAGE_FAILED = "stage_failed"
    FAILED = "failed"
    RETRIED = "retried"

    @property
    def is_terminal(self) -> bool:
        return self in (Status.COMPLETED, Status.FAILED)


# A success payload type -> (the stage that produces it, the status it leaves, the stage due next).
_SUCCESS: dict[type[EventPayload], tuple[Stage, Status, Stage | None]] = {
    FileStored: (Stage.STORE, Status.STORED, Stage.EXTRACT),
    TextExtracted: (Stage.EXTRACT, Status.TEXT_EXTRACTED, Stage.PARSE),
    ResumeParsed: (Stage.PARSE, Status.PARSED, Stage.EMBED),
    ResumeEmbedded: (Stage.EMBED, Status.EMBEDDED, Stage.SCORE),
    ApplicationScored: (Stage.SCORE, Status.SCORED, Stage.COMPLETE),
    ApplicationCompleted: (Stage.COMPLETE, Status.COMPLETED, None),
}

_STATUS_OF: dict[str, Status] = {
    ApplicationReceived.type_name: Status.RECEIVED,
    **{payload.type_name: status for payload, (_, status, _) in _SUCCESS.items()},
    StageFailed.type_name: Status.STAGE_FAILED,
    ApplicationFailed.type_name: Status.FAILED,
    ApplicationRetried.type_name: Status.RETRIED,
}


def status_of(event_type: str) -> Status:
    """The status an event of this type leaves its application in."""
    return _STATUS_OF[event_type]


def stage_of(payload_type: type[EventPayload]) -> Stage | None:
    """The stage whose success this payload type records (None for other events)."""
    entry = _SUCCESS.get(payload_type)
    return entry[0] if entry else None


class ApplicationState(BaseModel):
    """Everything the log says about one application, as of ``version``."""

    model_config = ConfigDict(frozen=True)

    application_id: UUID
    version: int
    status: Status
    next_stage: Stage | None
    correlation_id: UUID
    job_post_id: UUID
    email: str
    name: str
    filename: str
    format: DocumentFormat
    size_bytes: int
    sha256: str
    inbox_key: str
    created_at: AwareDatetime
    updated_at: AwareDatetime
    submitted_by: UUID | None = None
    blob_key: str | None = None
    text: str | None = None
    page_count: int | None = None
    ocr_pages: int | None = None
    pages: tuple[PageSummary, ...] = ()
    resume: ParsedResume | None = None
    parser: str | None = None
    embedding: tuple[float, ...] | None = None
    embedding_model: str | None = None
    score: ScoreBreakdown | None = None
    attempts: int = 0
    last_error: str | None = None
    awaiting_failure: bool = False
    failure_stage: Stage | None = None
    failure_reason: str | None = None
    failure_detail: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal


def apply(state: ApplicationState | None, event: EventEnvelope) -> ApplicationState:
    """The state after ``event``; raises IllegalTransition when ``state`` does not allow it."""
    payload = event.payload
    if state is None:
        if not isinstance(payload, ApplicationReceived) or event.version != 1:
            raise IllegalTransition(
                f"a history must open with application.received at version 1, "
                f"not {event.type} at version {event.version}"
            )
        return _received(event, payload)
    if event.application_id != state.application_id:
        raise IllegalTransition(
            f"event for {event.application_id} applied to {state.application_id}"
        )
    if event.version != state.version + 1:
        raise IllegalTransition(
            f"version {event.version} does not follow {state.version} ({event.type})"
        )
    common = {
        "version": event.version,
        "updated_at": event.occurred_at,
        "status": status_of(event.type),
    }

    if isinstance(payload, ApplicationRetried):
        if state.status is not Status.FAILED:
            raise IllegalTransition(
                f"only a failed application can be retried (it is {state.status})"
            )
        return state.model_copy(
            update=common
            | {
                "next_stage": state.failure_stage,
                "attempts": 0,
                "last_error": None,
                "awaiting_failure": False,
                "failure_stage": None,
                "failure_reason": None,
                "failure_detail": None,
            }
        )
    if state.is_terminal:
        raise IllegalTransition(f"{event.type} after the application is {state.status}")
    if isinstance(payload, ApplicationFailed):
        _expect_stage(state, payload.stage, event.type)
        return state.model_copy(
            update=common
            | {
                "next_stage": None,
                "awaiting_failure": False,
                "failure_stage": payload.stage,
                "failure_reason": payload.reason,
                "failure_detail": payload.detail,
            }
        )
    if state.awaiting_failure:
        raise IllegalTransition(
            f"{event.type} after a non-retryable failure; expected application.failed"
        )
    if isinstance(payload, StageFailed):
        _expect_stage(state, payload.stage, event.type)
        if payload.attempt != state.attempts + 1:
            raise IllegalTransition(
                f"attempt {payload.attempt} at {payload.stage} does not follow {state.attempts}"
            )
        return state.model_copy(
            update=common
            | {
                "attempts": payload.attempt,
                "last_error": f"{payload.reason}: {payload.detail}"
                if payload.detail
                else payload.reason,
                "awaiting_failure": not payload.retryable,
            }
        )
    entry = _SUCCESS.get(type(payload))
    if entry is None:
        raise IllegalTransition(f"{event.type} is not a transition of an application")
    stage, _, next_stage = entry
    _expect_stage(state, stage, event.type)
    update = (
        common | {"next_stage": next_stage, "attempts": 0, "last_error": None} | _facts(payload)
    )
    return state.model_copy(update=update)


def fold(events: Iterable[EventEnvelope]) -> ApplicationState | None:
    state: ApplicationState | None = None
    for event in events:
        state = apply(state, event)
    return state


def _expect_stage(state: ApplicationState, stage: Stage, event_type: str) -> None:
    if state.next_stage is not stage:
        due = state.next_stage.value if state.next_stage else "nothing"
        raise IllegalTransition(
            f"{event_type} for stage {stage} while {due} is due ({state.status})"
        )


def _received(event: EventEnvelope, payload: ApplicationReceived) -> ApplicationState:
    return ApplicationState(
        application_id=event.application_id,
        version=1,
        status=Status.RECEIVED,
        next_stage=Stage.STORE,
        correlation_id=event.correlation_id,
        job_post_id=payload.job_post_id,
        email=payload.email,
        name=payload.name,
        filename=payload.filename,
        format=payload.format,
        size_bytes=payload.size_bytes,
        sha256=payload.sha256,
        inbox_key=payload.inbox_key,
        submitted_by=payload.submitted_by,
        created_at=event.occurred_at,
        updated_at=event.occurred_at,
    )


def _facts(payload: EventPayload) -> dict[str, object]:
    """The fields a success event contributes to the state."""
    if isinstance(payload, FileStored):
        return {"blob_key": payload.blob_key}
    if isinstance(payload, TextExtracted):
        return {
            "text": payload.text,
            "page_count": len(payload.pages),
            "ocr_pages": sum(1 for p in payload.pages if p.source == "ocr"),
            "pages": payload.pages,
        }
    if isinstance(payload, ResumeParsed):
        return {"resume": payload.resume, "parser": payload.parser}
    if isinstance(payload, ResumeEmbedded):
        return {
            "embedding": payload.vector,
            "embedding_model": f"{payload.model}@{payload.model_version}",
        }
    if isinstance(payload, ApplicationScored):
        return {"score": payload.breakdown}
    return {}
