"""The ``applications`` read model: one row per application, the fold of its events.

A row holds every field of ``ApplicationState``, so projecting is: row -> state, the domain's
``apply`` for each new event, state -> row. The projection has no transition logic of its own,
and a row always equals the fold of the application's events up to its ``version`` (the guard).

Delivery from a feed may repeat, reorder or skip ahead:
- events at or below the known version are redeliveries and change nothing;
- an event beyond ``version + 1`` means earlier ones are still on their way (another consumer's
  pending entries): the missing ones are read from the application's history first;
- two consumers racing on one application can only write equal rows for equal versions (the fold
  is deterministic), and the version guard keeps a stale writer from moving a row backwards.

Recent states are kept in an LRU cache so a batch reads back only applications it has not seen.
A cached state may be behind the row (another replica moved it on); the next event then looks
like a gap or a redelivery, both handled.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic_core import to_json
from sqlalchemy import Table

from resumeflow.database.tables import applications
from resumeflow.domain.application import ApplicationState, apply
from resumeflow.domain.events import EventEnvelope
from resumeflow.domain.resume import ParsedResume
from resumeflow.domain.scoring import ScoreBreakdown
from resumeflow.projections.model import Changes, Json, ProjectionGap, Reads, Row, Upsert

__all__ = ["ApplicationsProjection", "row_from_state", "state_from_row"]


def row_from_state(
    state: ApplicationState, previous: tuple[ApplicationState, Row] | None = None
) -> dict[str, Any]:
    """The ``applications`` row of ``state``, its JSON columns as ``Json`` text.

    With ``previous`` (an earlier state and its row), a JSON column whose value is the same
    object as in that state (the fold copies unchanged fields by reference) reuses its text: an
    event re-serializes only what it changed, not the resume and embedding on every event.
    """
    resume, score, embedding = state.resume, state.score, state.embedding
    before, old = previous if previous else (None, None)
    if before is not None and old is not None and before.resume is resume:
        parsed, json_resume = old["parsed"], old["json_resume"]
    else:
        parsed = Json(resume.model_dump_json()) if resume else None
        json_resume = Json(to_json(resume.to_json_resume()).decode()) if resume else None
    if before is not None and old is not None and before.embedding is embedding:
        embedded = old["embedded_value"]
    else:
        embedded = Json(to_json(embedding).decode()) if embedding is not None else None
    if before is not None and old is not None and before.score is score:
        breakdown = old["score_breakdown"]
    else:
        breakdown = Json(score.model_dump_json()) if score else None
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
        "parsed": parsed,
        "json_resume": json_resume,
        "parser": state.parser,
        "embedded_value": embedded,
        "embedding_model": state.embedding_model,
        "score": score.total if score else None,
        "score_breakdown": breakdown,
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
        "submitted_by": state.submitted_by,
    }


def state_from_row(row: Row) -> ApplicationState:
    """The state a stored row holds (the inverse of ``row_from_state``)."""
    parsed, breakdown, embedding = row["parsed"], row["score_breakdown"], row["embedded_value"]
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
            "submitted_by": row["submitted_by"],
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


class ApplicationsProjection:
    name = "applications"
    tables: tuple[Table, ...] = (applications,)

    def __init__(self, *, cache_size: int = 0) -> None:
        self._cache: OrderedDict[UUID, tuple[ApplicationState, Row]] = OrderedDict()
        self._cache_size = cache_size

    async def changes(self, events: Sequence[EventEnvelope], reads: Reads) -> Changes:
        by_application: dict[UUID, dict[int, EventEnvelope]] = {}
        for event in events:
            by_application.setdefault(event.application_id, {})[event.version] = event
        known = {a: self._cache[a] for a in by_application if a in self._cache}
        # A stream opening at version 1 in this batch has no row yet (or, redelivered, one the
        # guard keeps): nothing to read back for it.
        unknown = [a for a in by_application if a not in known and 1 not in by_application[a]]
        if unknown:
            for row in await reads.rows(applications, unknown):
                state = state_from_row(row)
                known[state.application_id] = (state, row)
        changed: dict[UUID, tuple[ApplicationState, Row]] = {}
        for application_id, stream in by_application.items():
            previous = known.get(application_id)
            before = previous[0] if previous else None
            after = await _advance(before, application_id, stream, reads)
            if after is not None and after is not before:
                changed[application_id] = (after, row_from_state(after, previous))
        if not changed:
            return Changes()
        rows = [row for _, row in changed.values()]
        return Changes(
            [Upsert(applications, rows, guard="version")], on_commit=lambda: self._keep(changed)
        )

    def _keep(self, states: dict[UUID, tuple[ApplicationState, Row]]) -> None:
        if not self._cache_size:
            return
        for application_id, state in states.items():
            self._cache[application_id] = state
            self._cache.move_to_end(application_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


async def _advance(
    state: ApplicationState | None,
    application_id: UUID,
    stream: dict[int, EventEnvelope],
    reads: Reads,
) -> ApplicationState | None:
    """``state`` after the events of ``stream`` beyond it, filling a gap from the history."""
    have = state.version if state else 0
    pending = sorted(v for v in stream if v > have)
    if not pending:
        return state  # a redelivery: the row already holds these versions
    if pending[0] != have + 1:
        for event in await reads.history(application_id, after_version=have):
            if event.version < pending[-1]:
                stream.setdefault(event.version, event)
        pending = sorted(v for v in stream if v > have)
    for version in pending:
        current = state.version if state else 0
        if version != current + 1:
            raise ProjectionGap(application_id, current, version)
        state = apply(state, stream[version])
    return state
