"""What the API reads and answers (its OpenAPI schema), apart from the domain's own models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "ApplicationAccepted",
    "ApplicationOut",
    "ApplicationPage",
    "ApplicationSummaryOut",
    "DeadLetterOut",
    "DeadLetterPage",
    "Failure",
    "HistoryOut",
    "HistoryStep",
    "JobPostIn",
    "JobPostOut",
    "JobPostPage",
    "Ready",
    "StatusChange",
    "TimelineOut",
    "TimelineStep",
]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _utc(cls, value: Any) -> Any:
        """Times are UTC; SQLite hands them back without their offset, which RFC 3339 needs."""
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class JobPostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=100_000)
    required_skills: list[str] | None = Field(
        default=None, max_length=200, description="default: read from the description"
    )
    min_years_experience: float | None = Field(
        default=None, ge=0, le=60, description="default: read from the description"
    )


class JobPostOut(_Out):
    id: UUID
    title: str
    description: str
    required_skills: list[str]
    min_years_experience: float
    status: Literal["open", "closed"]
    created_at: datetime | None
    closed_at: datetime | None


class JobPostPage(_Out):
    items: list[JobPostOut]
    next_cursor: str | None


class Failure(_Out):
    stage: str | None
    reason: str | None
    detail: str | None


class ApplicationAccepted(_Out):
    id: UUID
    status: str
    job_post_id: UUID
    created_at: datetime
    repeated: bool = Field(description="an earlier submit with the same Idempotency-Key made it")
    links: dict[str, str]


class ApplicationOut(_Out):
    id: UUID
    job_post_id: UUID
    name: str
    email: str
    status: str
    next_stage: str | None
    filename: str
    format: str
    size_bytes: int
    page_count: int | None
    ocr_pages: int | None
    attempts: int
    last_error: str | None
    failure: Failure | None
    parsed: dict[str, Any] | None
    json_resume: dict[str, Any] | None
    score: float | None
    score_breakdown: dict[str, Any] | None
    version: int
    created_at: datetime
    updated_at: datetime


class ApplicationSummaryOut(_Out):
    id: UUID
    job_post_id: UUID
    name: str
    email: str
    status: str
    score: float | None
    score_breakdown: dict[str, Any] | None = None
    version: int
    created_at: datetime
    updated_at: datetime


class ApplicationPage(_Out):
    items: list[ApplicationSummaryOut]
    next_cursor: str | None


class HistoryStep(_Out):
    version: int
    type: str
    event_id: UUID
    occurred_at: datetime
    causation_id: UUID | None
    traceparent: str | None
    trace_id: str | None
    trace_link: str | None = Field(description="the trace UI's page (RESUMEFLOW_TRACE_URL)")
    payload: dict[str, Any]
    state: dict[str, Any] = Field(description="the application after this event")


class HistoryOut(_Out):
    application_id: UUID
    steps: list[HistoryStep]


class TimelineStep(_Out):
    version: int
    type: str
    at: datetime
    at_seconds: float = Field(description="since the application was received")
    stage: str | None
    worker: str | None
    attempt: int | None
    waited_seconds: float | None = Field(description="due, but waiting for a worker")
    worked_seconds: float | None = Field(description="a worker on it")
    note: str | None = Field(description="a failure's reason, a retry's reason")
    trace_id: str | None


class TimelineOut(_Out):
    application_id: UUID
    status: str
    elapsed_seconds: float
    waited_seconds: float
    worked_seconds: float
    trace_ids: list[str]
    trace_links: list[str]
    steps: list[TimelineStep]


class StatusChange(_Out):
    id: UUID
    status: str
    version: int
    next_stage: str | None
    score: float | None
    failure: Failure | None
    updated_at: datetime


class DeadLetterOut(_Out):
    id: int
    consumer_group: str
    stream: str
    entry_id: str
    event_id: UUID | None
    application_id: UUID | None
    error: str
    deliveries: int
    dead_at: datetime
    redriven_at: datetime | None


class DeadLetterPage(_Out):
    items: list[DeadLetterOut]
    next_cursor: str | None


class Ready(_Out):
    status: Literal["ready", "not ready"]
    mode: Literal["embedded", "distributed"]
    checks: dict[str, str]
