"""The live ``applications`` and ``stage_timings`` read models, as the projector keeps them.

Same rule as the embedded mode's inline projection (streams/projection.py): a row is always
``row_from_state(fold(events up to its version))``; the domain's ``apply`` is the only logic.
What differs is delivery: events come from a feed through consumer groups, so they may arrive
twice, late, or after a later event of the same application. Hence:

- Redelivery: events at or below the row's version are skipped.
- Gap: an event beyond ``version + 1`` means an earlier one is still pending elsewhere (a dead
  consumer's PEL, a claimer's queue). The missing events are read from the event store's
  per-application history, so the row never skips a version.
- Version guard: the upsert only replaces a row with a higher version
  (``WHERE applications.version < excluded.version``). Because the fold is deterministic, two
  consumers racing on one application can only write equal rows for equal versions, and a stale
  writer can never move a row backwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from resumeflow.domain.application import ApplicationState, apply, stage_of
from resumeflow.domain.events import EventEnvelope
from resumeflow.streams.projection import ProjectionGap, row_from_state, state_from_row
from resumeflow.streams.tables import applications, stage_timings

__all__ = [
    "ApplicationsReadModel",
    "HistoryReader",
    "stage_timing",
    "upsert_rows",
    "upsert_timings",
]


class HistoryReader(Protocol):
    """Where missing events are fetched from (the event store: Redis, or the SQL archive)."""

    async def read(
        self, application_id: UUID, *, after_version: int = 0
    ) -> list[EventEnvelope]: ...


def _insert(conn: AsyncConnection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


async def upsert_rows(
    conn: AsyncConnection, rows: Sequence[dict[str, Any]], table: Table = applications
) -> None:
    """Insert or replace ``applications`` rows, never replacing a row with an older one."""
    if not rows:
        return
    statement = _insert(conn)(table)
    columns = [c.name for c in table.columns if c.name != "id"]
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={name: statement.excluded[name] for name in columns},
        where=table.c.version < statement.excluded.version,
    )
    await conn.execute(statement, list(rows))


class ApplicationsReadModel:
    """Projection of the feed into ``applications`` (+ ``stage_timings``), in one transaction."""

    name = "applications"

    def __init__(
        self,
        history: HistoryReader,
        *,
        rows: Table = applications,
        timings: Table = stage_timings,
    ) -> None:
        """``rows``/``timings`` name other tables of the same shape (a rebuild's fresh ones)."""
        self._history = history
        self._rows = rows
        self._timings = timings

    async def apply(self, conn: AsyncConnection, events: Sequence[EventEnvelope]) -> None:
        by_application: dict[UUID, dict[int, EventEnvelope]] = {}
        for event in events:
            by_application.setdefault(event.application_id, {})[event.version] = event
        if not by_application:
            return
        result = await conn.execute(
            select(self._rows).where(self._rows.c.id.in_(list(by_application)))
        )
        current = {row.id: state_from_row(row._mapping) for row in result}
        rows: list[dict[str, Any]] = []
        timings: list[dict[str, Any]] = []
        for application_id, stream in by_application.items():
            state = current.get(application_id)
            have = state.version if state else 0
            pending = sorted(v for v in stream if v > have)
            if not pending:
                continue  # a redelivery: the row already holds these versions
            if pending[0] != have + 1:
                await self._fill_gap(application_id, have, pending[-1], stream)
                pending = sorted(v for v in stream if v > have)
            for version in pending:
                if version != (state.version if state else 0) + 1:
                    raise ProjectionGap(application_id, state.version if state else 0, version)
                before, state = state, apply(state, stream[version])
                timing = stage_timing(before, state, stream[version])
                if timing:
                    timings.append(timing)
            assert state is not None
            rows.append(row_from_state(state))
        await upsert_rows(conn, rows, self._rows)
        await upsert_timings(conn, timings, self._timings)

    async def _fill_gap(
        self, application_id: UUID, have: int, upto: int, stream: dict[int, EventEnvelope]
    ) -> None:
        """Complete ``stream`` with the versions between ``have`` and ``upto`` from history."""
        for event in await self._history.read(application_id, after_version=have):
            if event.version <= upto:
                stream.setdefault(event.version, event)


async def upsert_timings(
    conn: AsyncConnection, timings: Sequence[dict[str, Any]], table: Table = stage_timings
) -> None:
    """Insert or replace stage timings (a retried stage keeps its latest success)."""
    if not timings:
        return
    statement = _insert(conn)(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.application_id, table.c.stage],
        set_={n: statement.excluded[n] for n in ("started_at", "finished_at", "duration_ms")},
    )
    await conn.execute(statement, list(timings))


def stage_timing(
    before: ApplicationState | None, after: ApplicationState, event: EventEnvelope
) -> dict[str, Any] | None:
    """A stage's duration: from the event that made it due to the event recording its success."""
    stage = stage_of(type(event.payload))
    if before is None or stage is None:
        return None
    started, finished = before.updated_at, after.updated_at
    return {
        "application_id": after.application_id,
        "stage": stage.value,
        "started_at": started,
        "finished_at": finished,
        "duration_ms": (finished - started).total_seconds() * 1000,
    }
