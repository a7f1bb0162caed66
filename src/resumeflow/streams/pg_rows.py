"""The projector's fast path into Postgres: asyncpg ``executemany`` of prebuilt records.

A projected batch is one statement's rows (``Rows``), and ``write_rows`` sends them together
with the group's checkpoints as ONE pipelined ``executemany``: asyncpg sends every Bind/Execute
and a single Sync, so the batch runs in Postgres's implicit transaction, all or nothing, with no
BEGIN and COMMIT round trips. The checkpoints ride along in a data-modifying CTE of the first
record (``unnest`` of two arrays; NULL arrays on the other records add nothing). One round trip
per batch instead of four matters on a small machine, where each one costs both processes a
wake-up and system calls (docs/adr/0003-projections.md).

Why: through SQLAlchemy's executemany, building and compiling parameters and serializing the
JSON columns cost more than the database's own work (profiled: about 40% of a batch). Here a
record is a tuple in column order, and a JSON column's text is reused from the application's
previous record when the value is the same object (``model_copy`` in the fold keeps unchanged
fields by reference), so an event re-serializes only what it changed. ``row_from_state`` stays
the definition of a row: ``record`` must equal it column for column (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_json
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from resumeflow.domain.application import ApplicationState
from resumeflow.streams.tables import applications

__all__ = [
    "JSON_COLUMNS",
    "Checkpoint",
    "Record",
    "Rows",
    "driver_connection",
    "execute_many",
    "record",
    "upsert_sql",
    "write_rows",
]

Record = tuple[Any, ...]
Checkpoint = tuple[str, str]
"""(name, position): what a consumer group last applied on one stream."""


@dataclass(frozen=True)
class Rows:
    """A projected batch as the rows of one statement.

    ``sql`` is a single INSERT (upsert) taking one record's values as ``$1``..``$n``;
    ``after_commit`` runs once the rows are committed (a projection's cache).
    """

    sql: str
    records: Sequence[Record]
    after_commit: Callable[[], None] | None = None


COLUMNS = [c.name for c in applications.columns]
JSON_COLUMNS = ("parsed", "json_resume", "embedded_value", "score_breakdown")
_INDEX = {name: n for n, name in enumerate(COLUMNS)}


def _dumps(value: Any) -> str | None:
    """JSON text by pydantic-core: ``json.dumps`` spent ~270 us on an embedding's 256 floats."""
    return None if value is None else to_json(value).decode()


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
        parsed = resume.model_dump_json() if resume else None
        json_resume = _dumps(resume.to_json_resume() if resume else None)
    if old is not None and before is not None and before.embedding is embedding:
        embedded = old[_INDEX["embedded_value"]]
    else:
        embedded = _dumps(embedding)
    if old is not None and before is not None and before.score is score:
        breakdown = old[_INDEX["score_breakdown"]]
    else:
        breakdown = score.model_dump_json() if score else None
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


async def driver_connection(conn: AsyncConnection) -> Any:
    """The asyncpg connection under ``conn`` (asyncpg ships no type information)."""
    raw = await conn.get_raw_connection()
    return raw.driver_connection


async def execute_many(conn: AsyncConnection, sql: str, records: Sequence[Record]) -> None:
    """``executemany`` on the asyncpg connection under ``conn``, inside its transaction."""
    if not records:
        return
    await (await driver_connection(conn)).executemany(sql, records)


_CHECKPOINTS = (
    "INSERT INTO projection_checkpoints (name, position, updated_at) "
    "SELECT name, position, now() FROM unnest(${names}::text[], ${positions}::text[]) "
    "AS checkpoint(name, position) "
    "ON CONFLICT (name) DO UPDATE SET position = excluded.position, "
    "updated_at = excluded.updated_at"
)


async def write_rows(db: Any, rows: Rows, checkpoints: Sequence[Checkpoint] = ()) -> None:
    """Write ``rows`` and ``checkpoints`` in one pipelined, atomic ``executemany`` on ``db``
    (an asyncpg connection with no transaction open: the implicit one is the batch's)."""
    latest = dict(checkpoints)  # one row per name: ON CONFLICT cannot touch a row twice
    names, positions = list(latest), list(latest.values())
    if not rows.records:
        if latest:
            await db.execute(_CHECKPOINTS.format(names=1, positions=2), names, positions)
        return
    if not latest:
        await db.executemany(rows.sql, rows.records)
        return
    width = len(rows.records[0])
    cte = _CHECKPOINTS.format(names=width + 1, positions=width + 2)
    first, *rest = rows.records
    await db.executemany(
        f"WITH checkpoints AS ({cte}) {rows.sql}",
        [(*first, names, positions), *((*r, None, None) for r in rest)],
    )
