"""The applications read model: one row per application, the fold of its events.

A row holds every field of ``ApplicationState``, so projecting an event is: row -> state, the
domain's ``apply``, state -> row. The projection has no transition logic of its own, and a row
always equals the fold of the events up to its ``version``. Events at or below that version are
redeliveries and change nothing (effectively once).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from resumeflow.domain.application import ApplicationState, apply
from resumeflow.domain.events import EventEnvelope
from resumeflow.domain.resume import ParsedResume
from resumeflow.domain.scoring import ScoreBreakdown
from resumeflow.streams.tables import applications

__all__ = [
    "ApplicationsProjection",
    "ProjectionGap",
    "advance",
    "row_from_state",
    "state_from_row",
]


class ProjectionGap(Exception):
    """An event arrived before one it depends on; the caller must fetch the missing ones first."""

    def __init__(self, application_id: UUID, have: int, got: int) -> None:
        super().__init__(f"application {application_id}: row at version {have}, event {got}")
        self.application_id = application_id
        self.have = have
        self.got = got


def row_from_state(state: ApplicationState) -> dict[str, Any]:
    return {
        "id": state.application_id,
        "job_post_id": state.job_post_id,
        "email": state.email,
        "name": state.name,
        "status": state.status.value,
        "next_stage": state.next_stage.value if state.next_stage else None,
        "filename": state.filename,
        "format": state.format.value,
        "size_bytes": state.size_bytes,
        "sha256": state.sha256,
        "inbox_key": state.inbox_key,
        "blob_key": state.blob_key,
        "extracted_text": state.text,
        "page_count": state.page_count,
        "ocr_pages": state.ocr_pages,
        "parsed": state.resume.model_dump(mode="json") if state.resume else None,
        "json_resume": state.resume.to_json_resume() if state.resume else None,
        "parser": state.parser,
        "embedded_value": list(state.embedding) if state.embedding is not None else None,
        "embedding_model": state.embedding_model,
        "score": state.score.total if state.score else None,
        "score_breakdown": state.score.model_dump(mode="json") if state.score else None,
        "attempts": state.attempts,
        "last_error": state.last_error,
        "awaiting_failure": int(state.awaiting_failure),
        "failure_stage": state.failure_stage.value if state.failure_stage else None,
        "failure_reason": state.failure_reason,
        "failure_detail": state.failure_detail,
        "correlation_id": state.correlation_id,
        "version": state.version,
        "created_at": state.created_at,
        "updated_at": state.updated_at,
    }


def state_from_row(row: Mapping[Any, Any]) -> ApplicationState:
    parsed = row["parsed"]
    breakdown = row["score_breakdown"]
    embedding = row["embedded_value"]
    return ApplicationState.model_validate(
        {
            "application_id": row["id"],
            "version": row["version"],
            "status": row["status"],
            "next_stage": row["next_stage"],
            "correlation_id": row["correlation_id"],
            "job_post_id": row["job_post_id"],
            "email": row["email"],
            "name": row["name"],
            "filename": row["filename"],
            "format": row["format"],
            "size_bytes": row["size_bytes"],
            "sha256": row["sha256"],
            "inbox_key": row["inbox_key"],
            "created_at": _utc(row["created_at"]),
            "updated_at": _utc(row["updated_at"]),
            "blob_key": row["blob_key"],
            "text": row["extracted_text"],
            "page_count": row["page_count"],
            "ocr_pages": row["ocr_pages"],
            "resume": ParsedResume.model_validate(parsed) if parsed is not None else None,
            "parser": row["parser"],
            "embedding": tuple(embedding) if embedding is not None else None,
            "embedding_model": row["embedding_model"],
            "score": ScoreBreakdown.model_validate(breakdown) if breakdown is not None else None,
            "attempts": row["attempts"],
            "last_error": row["last_error"],
            "awaiting_failure": bool(row["awaiting_failure"]),
            "failure_stage": row["failure_stage"],
            "failure_reason": row["failure_reason"],
            "failure_detail": row["failure_detail"],
        }
    )


def _utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:  # SQLite keeps no offset
        return value.replace(tzinfo=UTC)
    return value


def advance(
    state: ApplicationState | None, events: Sequence[EventEnvelope]
) -> ApplicationState | None:
    """Apply ``events`` (one application's, in version order) past ``state``; skip redeliveries."""
    for event in events:
        have = state.version if state else 0
        if event.version <= have:
            continue
        if event.version != have + 1:
            raise ProjectionGap(event.application_id, have, event.version)
        state = apply(state, event)
    return state


class ApplicationsProjection:
    """Keeps the ``applications`` table equal to the fold of each application's events."""

    name = "applications"

    async def apply(self, conn: AsyncConnection, events: Sequence[EventEnvelope]) -> None:
        by_application: dict[UUID, list[EventEnvelope]] = {}
        for event in events:
            by_application.setdefault(event.application_id, []).append(event)
        if not by_application:
            return
        result = await conn.execute(
            select(applications).where(applications.c.id.in_(list(by_application)))
        )
        current = {row.id: state_from_row(row._mapping) for row in result}
        for application_id, stream in by_application.items():
            before = current.get(application_id)
            after = advance(before, sorted(stream, key=lambda e: e.version))
            if after is None or after is before:
                continue
            values = row_from_state(after)
            if before is None:
                await conn.execute(applications.insert().values(values))
            else:
                await conn.execute(
                    applications.update()
                    .where(applications.c.id == application_id)
                    .where(applications.c.version == before.version)
                    .values(values)
                )
