"""An independent oracle for the read models: what a row must hold, computed the plain way.

Written for the tests, apart from the production code: no ``ApplicationState``, no ``apply``, no
row mapper. It walks an application's events and sets the columns each event type sets, the way
docs/events.md describes them; a projection that maps a column wrongly disagrees with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any
from uuid import UUID

from resumeflow.domain.events import (
    ApplicationCompleted,
    ApplicationFailed,
    ApplicationReceived,
    ApplicationRetried,
    ApplicationScored,
    EventEnvelope,
    FileStored,
    ResumeEmbedded,
    ResumeParsed,
    StageFailed,
    TextExtracted,
)

__all__ = ["comparable", "reference_rows", "reference_timings"]

# event type -> (status it leaves, stage due next); the pipeline's order, stated here again
SUCCESS = {
    "application.stored": ("stored", "extract", "store"),
    "application.text_extracted": ("text_extracted", "parse", "extract"),
    "application.parsed": ("parsed", "embed", "parse"),
    "application.embedded": ("embedded", "score", "embed"),
    "application.scored": ("scored", "complete", "score"),
    "application.completed": ("completed", None, "complete"),
}


def reference_row(history: Sequence[EventEnvelope]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for event in history:
        p = event.payload
        row["version"] = event.version
        row["updated_at"] = event.occurred_at
        if isinstance(p, ApplicationReceived):
            row.update(
                id=event.application_id,
                job_post_id=p.job_post_id,
                email=p.email,
                name=p.name,
                status="received",
                next_stage="store",
                filename=p.filename,
                format=p.format.value,
                size_bytes=p.size_bytes,
                sha256=p.sha256,
                inbox_key=p.inbox_key,
                blob_key=None,
                extracted_text=None,
                page_count=None,
                ocr_pages=None,
                parsed=None,
                json_resume=None,
                parser=None,
                embedded_value=None,
                embedding_model=None,
                score=None,
                score_breakdown=None,
                attempts=0,
                last_error=None,
                awaiting_failure=0,
                failure_stage=None,
                failure_reason=None,
                failure_detail=None,
                correlation_id=event.correlation_id,
                created_at=event.occurred_at,
                submitted_by=p.submitted_by,
            )
        elif event.type in SUCCESS:
            status, due, _ = SUCCESS[event.type]
            row.update(status=status, next_stage=due, attempts=0, last_error=None)
            if isinstance(p, FileStored):
                row["blob_key"] = p.blob_key
            elif isinstance(p, TextExtracted):
                row["extracted_text"] = p.text
                row["page_count"] = len(p.pages)
                row["ocr_pages"] = len([page for page in p.pages if page.source.value == "ocr"])
            elif isinstance(p, ResumeParsed):
                row["parsed"] = p.resume.model_dump(mode="json")
                row["json_resume"] = p.resume.to_json_resume()
                row["parser"] = p.parser
            elif isinstance(p, ResumeEmbedded):
                row["embedded_value"] = list(p.vector)
                row["embedding_model"] = f"{p.model}@{p.model_version}"
            elif isinstance(p, ApplicationScored):
                row["score"] = p.breakdown.total
                row["score_breakdown"] = p.breakdown.model_dump(mode="json")
            else:
                assert isinstance(p, ApplicationCompleted)
        elif isinstance(p, StageFailed):
            row["status"] = "stage_failed"
            row["attempts"] = p.attempt
            row["last_error"] = f"{p.reason}: {p.detail}" if p.detail else p.reason
            row["awaiting_failure"] = 0 if p.retryable else 1
        elif isinstance(p, ApplicationFailed):
            row.update(
                status="failed",
                next_stage=None,
                awaiting_failure=0,
                failure_stage=p.stage.value,
                failure_reason=p.reason,
                failure_detail=p.detail,
            )
        elif isinstance(p, ApplicationRetried):
            row.update(
                status="retried",
                next_stage=row["failure_stage"],
                attempts=0,
                last_error=None,
                awaiting_failure=0,
                failure_stage=None,
                failure_reason=None,
                failure_detail=None,
            )
        else:  # pragma: no cover - a new event type needs a line here
            raise AssertionError(f"the reference does not know {event.type}")
    return row


def reference_rows(histories: Mapping[UUID, Sequence[EventEnvelope]]) -> dict[UUID, dict[str, Any]]:
    return {app: comparable(reference_row(history)) for app, history in histories.items()}


def reference_timings(
    histories: Iterable[Sequence[EventEnvelope]],
) -> dict[tuple[UUID, str], dict[str, Any]]:
    """A stage's time runs from the previous event to its success; the latest success counts."""
    timings: dict[tuple[UUID, str], dict[str, Any]] = {}
    for history in histories:
        for before, event in pairwise(history):
            if event.type not in SUCCESS:
                continue
            stage = SUCCESS[event.type][2]
            started: datetime = before.occurred_at
            timings[(event.application_id, stage)] = comparable(
                {
                    "application_id": event.application_id,
                    "stage": stage,
                    "started_at": started,
                    "finished_at": event.occurred_at,
                    "duration_ms": (event.occurred_at - started).total_seconds() * 1000,
                }
            )
    return timings


def comparable(row: Mapping[str, Any]) -> dict[str, Any]:
    """Times as ISO text in UTC (SQLite drops the offset), so rows compare across backends."""
    out = {}
    for key, value in row.items():
        if isinstance(value, datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=UTC)
            value = aware.astimezone(UTC).isoformat()
        out[key] = value
    return out
