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

from sqlalchemy import Table

from resumeflow.database.tables import applications
from resumeflow.domain.application import ApplicationState, apply
from resumeflow.domain.events import EventEnvelope
from resumeflow.domain.resume import ParsedResume
from resumeflow.domain.scoring import ScoreBreakdown
from resumeflow.projections.model import Changes, ProjectionGap, Reads, Row, Upsert

__all__ = ["ApplicationsProjection", "row_from_state", "state_from_row"]


def row_from_state(state: ApplicationState) -> dict[str, Any]:
    """The ``applications`` row of ``state`` (JSON columns as dicts and lists)."""
    resume, score = state.resume, state.score
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
        "parsed": resume.model_dump(mode="json") if resume else None,
        "json_resume": resume.to_json_resume() if resume else None,
        "parser": state.parser,
        "embedded_value": list(state.embedding) if state.embedding is not None else None,
        "embedding_model": state.embedding_model,
        "score": score.total if score else None,
        "score_breakdown": score.model_dump(mode="json") if score else None,
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
        self._cache: OrderedDict[UUID, ApplicationState] = OrderedDict()
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
                known[state.application_id] = state
        changed: dict[UUID, ApplicationState] = {}
        for application_id, stream in by_application.items():
            after = await _advance(known.get(application_id), application_id, stream, reads)
            if after is not None and after is not known.get(application_id):
                changed[application_id] = after
        if not changed:
            return Changes()
        rows = [row_from_state(state) for state in changed.values()]
        return Changes(
            [Upsert(applications, rows, guard="version")], on_commit=lambda: self._keep(changed)
        )

    def _keep(self, states: dict[UUID, ApplicationState]) -> None:
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
