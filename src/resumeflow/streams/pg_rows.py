"""The projector's fast path into Postgres: asyncpg ``executemany`` of prebuilt records.

Why: through SQLAlchemy's executemany, building and compiling parameters and serializing the
JSON columns cost more than the database's own work (profiled: about 40% of a batch). Here a
record is a tuple in column order, and a JSON column's text is reused from the application's
previous record when the value is the same object (``model_copy`` in the fold keeps unchanged
fields by reference), so an event re-serializes only what it changed. ``row_from_state`` stays
the definition of a row: ``record`` must equal it column for column (tested).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from resumeflow.domain.application import ApplicationState
from resumeflow.streams.tables import applications

__all__ = ["JSON_COLUMNS", "Record", "execute_many", "record", "upsert_sql"]

Record = tuple[Any, ...]
COLUMNS = [c.name for c in applications.columns]
JSON_COLUMNS = ("parsed", "json_resume", "embedded_value", "score_breakdown")
_INDEX = {name: n for n, name in enumerate(COLUMNS)}


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


_ORDER = (
    "id", "job_post_id", "email", "name", "status", "next_stage", "filename", "format",
    "size_bytes", "sha256", "inbox_key", "blob_key", "extracted_text", "page_count", "ocr_pages",
    "parsed", "json_resume", "parser", "embedded_value", "embedding_model", "score",
    "score_breakdown", "attempts", "last_error", "awaiting_failure", "failure_stage",
    "failure_reason", "failure_detail", "correlation_id", "version", "created_at", "updated_at",
)  # fmt: skip
if tuple(COLUMNS) != _ORDER:  # record() below writes its tuple in this order
    raise RuntimeError("applications' columns changed: update pg_rows.record")


def record(
    state: ApplicationState, previous: tuple[ApplicationState, Record] | None = None
) -> Record:
    """The ``applications`` row of ``state`` as a tuple in column order, JSON as text."""
    before, old = previous if previous else (None, None)
    resume, score, embedding = state.resume, state.score, state.embedding
    if old is not None and before is not None and before.resume is resume:
        parsed, json_resume = old[_INDEX["parsed"]], old[_INDEX["json_resume"]]
    else:
        parsed = _dumps(resume.model_dump(mode="json") if resume else None)
        json_resume = _dumps(resume.to_json_resume() if resume else None)
    if old is not None and before is not None and before.embedding is embedding:
        embedded = old[_INDEX["embedded_value"]]
    else:
        embedded = _dumps(list(embedding) if embedding is not None else None)
    if old is not None and before is not None and before.score is score:
        breakdown = old[_INDEX["score_breakdown"]]
    else:
        breakdown = _dumps(score.model_dump(mode="json") if score else None)
    return (
        state.application_id, state.job_post_id, state.email, state.name, state.status.value,
        state.next_stage.value if state.next_stage else None, state.filename,
        state.format.value, state.size_bytes, state.sha256, state.inbox_key, state.blob_key,
        state.text, state.page_count, state.ocr_pages, parsed, json_resume, state.parser,
        embedded, state.embedding_model, score.total if score else None, breakdown,
        state.attempts, state.last_error, int(state.awaiting_failure),
        state.failure_stage.value if state.failure_stage else None, state.failure_reason,
        state.failure_detail, state.correlation_id, state.version, state.created_at,
        state.updated_at,
    )  # fmt: skip


def upsert_sql(table: Table = applications) -> str:
    """INSERT ... ON CONFLICT DO UPDATE with the version guard, for ``table``'s columns."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "id")
    placeholders = ", ".join(f"${n}" for n in range(1, len(COLUMNS) + 1))
    return (  # names from our metadata only; every value is a bound parameter
        f"INSERT INTO {table.name} ({', '.join(COLUMNS)}) VALUES ({placeholders}) "  # noqa: S608
        f"ON CONFLICT (id) DO UPDATE SET {updates} WHERE {table.name}.version < excluded.version"
    )


async def execute_many(conn: AsyncConnection, sql: str, records: Sequence[Record]) -> None:
    """``executemany`` on the asyncpg connection under ``conn``, inside its transaction."""
    if not records:
        return
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.executemany(sql, records)
