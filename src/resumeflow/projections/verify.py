"""Is the read side true to the log? The checks behind ``resumeflow verify``.

On a live system, for every application the log knows:
- its ``applications`` row exists and equals the fold of its events up to the row's version;
- the archive (the ``events`` table) holds each of its events once: as many rows as the log's
  version, none beyond it (in embedded mode the events table is the log, so this holds by itself);
- it is not stuck: accepted, non-terminal, and untouched for longer than ``stuck_after``.

A row or archive behind the log is projection lag, not an error: such applications are checked
again until ``settle`` runs out, and only what is still behind then is reported.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.database.tables import applications, events
from resumeflow.domain.application import ApplicationState, fold
from resumeflow.domain.errors import IllegalTransition
from resumeflow.domain.events import EventEnvelope
from resumeflow.eventstore.redis_streams import RedisStreamEventStore
from resumeflow.projections.applications import state_from_row

__all__ = ["Difference", "LogView", "VerifyReport", "redis_log", "sql_log", "verify"]

_CHUNK = 500
LAG = frozenset({"missing_row", "row_behind", "archive_behind"})


@dataclass(frozen=True)
class Difference:
    kind: str  # missing_row, row_behind, row_mismatch, archive_behind, archive_extra, stuck...
    application_id: UUID
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {**asdict(self), "application_id": str(self.application_id)}


@dataclass
class VerifyReport:
    applications: int = 0
    events: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict[str, Any]:
        kinds: dict[str, int] = {}
        for d in self.differences:
            kinds[d.kind] = kinds.get(d.kind, 0) + 1
        return {
            "ok": self.ok,
            "applications": self.applications,
            "events": self.events,
            "differences": kinds,
            "details": [d.as_dict() for d in self.differences],
        }


@dataclass(frozen=True)
class LogView:
    """What the checks need of the log: every application's version, and its events."""

    versions: Callable[[], Awaitable[dict[UUID, int]]]
    read: Callable[[UUID], Awaitable[list[EventEnvelope]]]
    is_archive: bool  # the log is the events table itself (embedded mode)


def redis_log(store: RedisStreamEventStore, engine: AsyncEngine) -> LogView:
    """The Redis Streams log: the versions Redis holds; an application whose stream has expired
    is known by its archived events (the store's ``read`` finds them there)."""

    async def versions() -> dict[UUID, int]:
        archived = await _archive(engine)
        return {app: version for app, (_, version) in archived.items()} | await store.versions()

    return LogView(versions=versions, read=store.read, is_archive=False)


def sql_log(engine: AsyncEngine, read: Callable[[UUID], Awaitable[Any]]) -> LogView:
    """The embedded log: the events table."""

    async def versions() -> dict[UUID, int]:
        return {app: version for app, (_, version) in (await _archive(engine)).items()}

    return LogView(versions=versions, read=read, is_archive=True)


async def _archive(engine: AsyncEngine, ids: Sequence[UUID] | None = None) -> dict[UUID, Any]:
    """Per application in the events table: (row count, highest version)."""
    query = select(events.c.application_id, func.count(), func.max(events.c.version)).group_by(
        events.c.application_id
    )
    if ids is not None:
        query = query.where(events.c.application_id.in_(ids))
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}


async def _rows(engine: AsyncEngine, ids: Sequence[UUID]) -> dict[UUID, Any]:
    async with engine.connect() as conn:
        result = await conn.execute(select(applications).where(applications.c.id.in_(ids)))
        return {row["id"]: row for row in result.mappings().all()}


def _comparable(state: ApplicationState, score: float | None) -> dict[str, Any]:
    # page provenance lives in the events and the history, not in the applications row; the
    # score column is the breakdown's total, kept apart for ranking
    return {**state.model_dump(exclude={"pages"}), "score_column": score}


async def _check(
    engine: AsyncEngine,
    log: LogView,
    versions: dict[UUID, int],
    ids: Sequence[UUID],
    now: datetime,
    stuck_after: timedelta,
) -> list[Difference]:
    rows = await _rows(engine, ids)
    archive = {} if log.is_archive else await _archive(engine, ids)
    histories = await asyncio.gather(*(log.read(app) for app in ids))
    found: list[Difference] = []
    for app, history in zip(ids, histories, strict=True):
        version = versions[app]

        def note(kind: str, detail: str, app: UUID = app) -> None:
            found.append(Difference(kind, app, detail))

        if not log.is_archive:
            count, highest = archive.get(app, (0, 0))
            if highest > version or count != highest:
                note("archive_extra", f"{count} rows up to version {highest}; the log: {version}")
            elif count < version:
                note("archive_behind", f"{count} of {version} events archived")
        row = rows.get(app)
        if row is None:
            note("missing_row", f"the log has {version} events, the read model no row")
            continue
        if row["version"] > version:
            note("row_mismatch", f"row at version {row['version']}, the log at {version}")
            continue
        try:
            expected = fold(history[: row["version"]])
        except IllegalTransition as error:
            note("unfoldable", str(error))
            continue
        assert expected is not None
        stored = state_from_row(row)
        want = _comparable(expected, expected.score.total if expected.score else None)
        have = _comparable(stored, row["score"])
        if want != have:
            fields = sorted(k for k in want if want[k] != have.get(k))
            note("row_mismatch", f"at version {row['version']}: {', '.join(fields)} differ")
        elif row["version"] < version:
            note("row_behind", f"row at version {row['version']} of {version}")
        elif not stored.is_terminal and now - stored.updated_at > stuck_after:
            minutes = (now - stored.updated_at).total_seconds() / 60
            note("stuck", f"{stored.status} for {minutes:.1f} min")
    return found


async def verify(
    engine: AsyncEngine,
    log: LogView,
    *,
    stuck_after: timedelta = timedelta(minutes=15),
    settle: float = 10.0,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> VerifyReport:
    """Every difference between the log and the read side, lag that outlasts ``settle`` included."""
    deadline = time.monotonic() + settle
    versions = await log.versions()
    known = set(versions)
    async with engine.connect() as conn:  # rows of applications the log has never heard of
        orphans = set((await conn.execute(select(applications.c.id))).scalars()) - known
    report = VerifyReport(applications=len(versions), events=sum(versions.values()))
    settled = [Difference("orphan_row", app, "no events in the log") for app in sorted(orphans)]
    pending = sorted(known)
    while True:
        found: list[Difference] = []
        for start in range(0, len(pending), _CHUNK):
            chunk = pending[start : start + _CHUNK]
            found += await _check(engine, log, versions, chunk, now(), stuck_after)
        lagging = sorted({d.application_id for d in found if d.kind in LAG})
        settled += [d for d in found if d.application_id not in lagging]
        if not lagging or time.monotonic() >= deadline:
            settled += [d for d in found if d.application_id in lagging]
            break
        await asyncio.sleep(min(1.0, max(deadline - time.monotonic(), 0)))
        pending = lagging
    report.differences = sorted(settled, key=lambda d: (d.kind, str(d.application_id)))
    return report
