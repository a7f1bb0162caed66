"""Shared steps of the projection tests: feed the log, wait for the read model, compare rows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.bootstrap.projector import ProjectorRuntime, projector_runtime
from resumeflow.domain.application import ApplicationState, apply, fold
from resumeflow.domain.events import EventEnvelope
from resumeflow.domain.ports import AppendBatch
from resumeflow.streams.projection import row_from_state
from resumeflow.streams.read_models import stage_timing
from resumeflow.streams.redis_store import RedisStreamEventStore
from resumeflow.streams.settings import ProjectorSettings
from resumeflow.streams.tables import applications, events, stage_timings
from tests.factories import happy_history

__all__ = [
    "append_histories",
    "caught_up",
    "count",
    "expected_rows",
    "expected_timings",
    "live_rows",
    "running",
    "wait_for",
]


async def append_histories(
    store: RedisStreamEventStore, count: int, *, stages: int = 6
) -> dict[UUID, list[EventEnvelope]]:
    """``count`` applications, their events interleaved in the log the way a busy system does."""
    histories = {app: happy_history(app, stages=stages) for app in (uuid4() for _ in range(count))}
    for version in range(1, stages + 2):
        batches = [
            AppendBatch(app, [h[version - 1]], expected_version=version - 1)
            for app, h in histories.items()
        ]
        await store.append_many(batches)
    return histories


def _normal(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


def expected_rows(histories: dict[UUID, list[EventEnvelope]]) -> dict[UUID, dict[str, Any]]:
    rows = {}
    for app, history in histories.items():
        state = fold(history)
        assert state is not None
        rows[app] = _normal(row_from_state(state))
    return rows


def expected_timings(histories: dict[UUID, list[EventEnvelope]]) -> dict[Any, dict[str, Any]]:
    """The stage timings the fold implies, keyed like ``live_rows(engine, stage_timings)``."""
    timings = {}
    for history in histories.values():
        state: ApplicationState | None = None
        for event in history:
            before, state = state, apply(state, event)
            timing = stage_timing(before, state, event)
            if timing:
                timings[(timing["application_id"], timing["stage"])] = _normal(timing)
    return timings


async def live_rows(engine: AsyncEngine, table: Any = applications) -> dict[Any, dict[str, Any]]:
    """Rows by primary key, times as ISO text (so dicts compare across drivers)."""
    key = [c.name for c in table.primary_key.columns]
    async with engine.connect() as conn:
        result = (await conn.execute(select(table))).mappings().all()
    return {tuple(row[k] for k in key) if len(key) > 1 else row[key[0]]: _normal(dict(row))
            for row in result}  # fmt: skip


async def caught_up(engine: AsyncEngine, histories: dict[UUID, list[EventEnvelope]]) -> bool:
    """Archive, applications and stage timings all equal what the histories imply."""
    total = sum(len(h) for h in histories.values())
    return (
        await count(engine) == total
        and await live_rows(engine) == expected_rows(histories)
        and await live_rows(engine, stage_timings) == expected_timings(histories)
    )


async def count(engine: AsyncEngine, table: Any = events) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def wait_for(condition: Any, *, within: float = 60.0, interval: float = 0.1) -> None:
    """Poll the async ``condition`` until it is true; fail with a clear message at the deadline."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {within} s")


@asynccontextmanager
async def running(settings: ProjectorSettings) -> AsyncIterator[ProjectorRuntime]:
    """The projector's FastStream app, served in this event loop until the block ends."""
    async with projector_runtime(settings) as runtime:
        task = asyncio.create_task(runtime.app.run())
        try:
            yield runtime
        finally:
            runtime.app.exit()
            await asyncio.wait_for(task, 30)
