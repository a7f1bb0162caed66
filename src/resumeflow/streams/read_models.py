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

import json
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from resumeflow.domain.application import ApplicationState, apply, stage_of
from resumeflow.domain.events import EventEnvelope
from resumeflow.streams.pg_rows import (
    JSON_COLUMNS,
    Record,
    Rows,
    execute_many,
    record,
    upsert_sql,
)
from resumeflow.streams.projection import ProjectionGap, row_from_state, state_from_row
from resumeflow.streams.tables import applications, stage_timings

__all__ = [
    "ApplicationsReadModel",
    "HistoryReader",
    "stage_timing",
    "timings_rows",
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
        timings: Table | None = stage_timings,
        cache_size: int = 0,
    ) -> None:
        """``rows``/``timings`` name other tables of the same shape (a rebuild's fresh ones);
        ``timings=None`` leaves stage timings to their own projection (streams/timings.py).

        ``cache_size`` > 0 keeps that many applications' last committed state (and, on
        Postgres, their record) in memory, so a batch reads only unknown rows back. A cached
        state may be older than the row (another consumer moved it on): the next event then
        shows a gap or a redelivery, both handled, and the guard keeps the newer row.
        """
        self._history = history
        self._rows = rows
        self._timings = timings
        self._cache: OrderedDict[UUID, tuple[ApplicationState, Record | None]] = OrderedDict()
        self._cache_size = cache_size
        self._sql = upsert_sql(rows)
        self._select = f"SELECT * FROM {rows.name} WHERE id = ANY($1::uuid[])"  # noqa: S608

    async def apply(
        self, conn: AsyncConnection, events: Sequence[EventEnvelope]
    ) -> Callable[[], None] | None:
        """Project ``events``; returns what to run once the transaction has committed."""
        by_application = _by_application(events)
        unknown = self._unknown(by_application)
        known = {a: self._cache[a] for a in by_application if a in self._cache}
        if unknown:
            result = await conn.execute(select(self._rows).where(self._rows.c.id.in_(unknown)))
            for row in result:
                known[row.id] = (state_from_row(row._mapping), None)
        fast = conn.dialect.name == "postgresql"
        folded = await self._fold(by_application, known, records=fast)
        if fast:
            await execute_many(conn, self._sql, folded.records)
        else:
            await upsert_rows(conn, folded.rows, self._rows)
        if self._timings is not None:
            await upsert_timings(conn, folded.timings, self._timings)
        return self._after_commit(folded.changed)

    async def rows(self, db: Any, events: Sequence[EventEnvelope]) -> Rows:
        """Postgres: the batch as the rows of one upsert (``pg_rows.write_rows`` sends them);
        ``db`` is an asyncpg connection. Only the ``applications`` rows: built with
        ``timings=None``, as the projector builds it."""
        if self._timings is not None:
            raise ValueError("rows() writes one table: build the read model with timings=None")
        by_application = _by_application(events)
        unknown = self._unknown(by_application)
        known = {a: self._cache[a] for a in by_application if a in self._cache}
        if unknown:
            for row in await db.fetch(self._select, unknown):
                state = state_from_row(_json_loaded(row))
                known[state.application_id] = (state, None)
        folded = await self._fold(by_application, known, records=True)
        return Rows(self._sql, folded.records, self._after_commit(folded.changed))

    def _unknown(self, by_application: dict[UUID, dict[int, EventEnvelope]]) -> list[UUID]:
        """Applications whose row must be read: not cached, and not starting in this batch
        (a stream opening at version 1 has no row yet; a redelivered one is refused by the
        version guard)."""
        return [a for a in by_application if a not in self._cache and 1 not in by_application[a]]

    async def _fold(
        self,
        by_application: dict[UUID, dict[int, EventEnvelope]],
        known: dict[UUID, tuple[ApplicationState, Record | None]],
        *,
        records: bool,
    ) -> _Folded:
        """Each application's state after its events in the batch, as Postgres ``records``
        (or SQLAlchemy rows), plus stage timings and what to cache once committed."""
        folded = _Folded()
        for application_id, stream in by_application.items():
            cached = known.get(application_id)
            state = cached[0] if cached else None
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
                if self._timings is not None:
                    timing = stage_timing(before, state, stream[version])
                    if timing:
                        folded.timings.append(timing)
            assert state is not None
            if records:
                previous = (cached[0], cached[1]) if cached and cached[1] is not None else None
                folded.records.append(record(state, previous))
                folded.changed[application_id] = (state, folded.records[-1])
            else:
                folded.rows.append(row_from_state(state))
                folded.changed[application_id] = (state, None)
        return folded

    def _after_commit(
        self, changed: dict[UUID, tuple[ApplicationState, Record | None]]
    ) -> Callable[[], None] | None:
        return (lambda: self._remember(changed)) if self._cache_size else None

    def _remember(self, changed: dict[UUID, tuple[ApplicationState, Record | None]]) -> None:
        """After a commit: cache the new states, never replacing a newer one."""
        for application_id, entry in changed.items():
            cached = self._cache.get(application_id)
            if cached is None or cached[0].version < entry[0].version:
                self._cache[application_id] = entry
            self._cache.move_to_end(application_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def _fill_gap(
        self, application_id: UUID, have: int, upto: int, stream: dict[int, EventEnvelope]
    ) -> None:
        """Complete ``stream`` with the versions between ``have`` and ``upto`` from history."""
        for event in await self._history.read(application_id, after_version=have):
            if event.version <= upto:
                stream.setdefault(event.version, event)


def _by_application(events: Sequence[EventEnvelope]) -> dict[UUID, dict[int, EventEnvelope]]:
    by_application: dict[UUID, dict[int, EventEnvelope]] = {}
    for event in events:
        by_application.setdefault(event.application_id, {})[event.version] = event
    return by_application


def _json_loaded(row: Mapping[str, Any]) -> dict[str, Any]:
    """An asyncpg row of ``applications`` as SQLAlchemy reads it: JSON columns decoded
    (SQLAlchemy's engine registers a JSON decoder on its connections; a bare one has none)."""
    loaded = dict(row)
    for column in JSON_COLUMNS:
        if isinstance(loaded[column], str):
            loaded[column] = json.loads(loaded[column])
    return loaded


@dataclass
class _Folded:
    records: list[Record] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    timings: list[dict[str, Any]] = field(default_factory=list)
    changed: dict[UUID, tuple[ApplicationState, Record | None]] = field(default_factory=dict)


_TIMING_COLUMNS = ("application_id", "stage", "started_at", "finished_at", "duration_ms")


def timings_rows(timings: Sequence[dict[str, Any]], table: Table = stage_timings) -> Rows:
    """Stage timings as the rows of one Postgres upsert (the guard of ``upsert_timings``)."""
    sql = (  # names from our metadata only; every value is a bound parameter
        f"INSERT INTO {table.name} ({', '.join(_TIMING_COLUMNS)}) "  # noqa: S608
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (application_id, stage) DO UPDATE SET "
        "started_at = excluded.started_at, finished_at = excluded.finished_at, "
        "duration_ms = excluded.duration_ms "
        f"WHERE {table.name}.finished_at < excluded.finished_at"
    )
    return Rows(sql, [tuple(t[c] for c in _TIMING_COLUMNS) for t in timings])


async def upsert_timings(
    conn: AsyncConnection, timings: Sequence[dict[str, Any]], table: Table = stage_timings
) -> None:
    """Insert or replace stage timings; a retried stage keeps its latest success.

    The guard (``finished_at`` only moves forward) makes a redelivered earlier success of a
    stage that was retried and succeeded again a no-op.
    """
    if not timings:
        return
    if conn.dialect.name == "postgresql":
        rows = timings_rows(timings, table)
        await execute_many(conn, rows.sql, rows.records)
        return
    statement = _insert(conn)(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.application_id, table.c.stage],
        set_={n: statement.excluded[n] for n in ("started_at", "finished_at", "duration_ms")},
        where=table.c.finished_at < statement.excluded.finished_at,
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
