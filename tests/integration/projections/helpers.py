"""Shared steps of the projection tests: feed the log, wait for the read models, compare rows."""

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
from resumeflow.bootstrap.settings import Settings
from resumeflow.database.tables import applications, events, stage_timings
from resumeflow.domain.events import EventEnvelope
from resumeflow.domain.ports import AppendBatch
from resumeflow.eventstore.redis_streams import RedisStreamEventStore
from tests.factories import happy_history
from tests.integration.projections.reference import (
    comparable,
    reference_rows,
    reference_timings,
)

__all__ = [
    "append_histories",
    "caught_up",
    "count",
    "live_rows",
    "running",
    "settings_env",
    "store_of",
    "wait_for",
]


def store_of(redis: Any, settings: Settings) -> RedisStreamEventStore:
    return RedisStreamEventStore(
        redis, partitions=settings.log.stream_partitions, prefix=settings.log.stream_prefix
    )


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


async def live_rows(engine: AsyncEngine, table: Any = applications) -> dict[Any, dict[str, Any]]:
    """Rows by primary key, times as ISO text in UTC (so dicts compare across drivers)."""
    key = [c.name for c in table.primary_key.columns]
    async with engine.connect() as conn:
        result = (await conn.execute(select(table))).mappings().all()
    return {tuple(row[k] for k in key) if len(key) > 1 else row[key[0]]: comparable(dict(row))
            for row in result}  # fmt: skip


async def caught_up(engine: AsyncEngine, histories: dict[UUID, list[EventEnvelope]]) -> bool:
    """Archive, applications and stage timings all equal what the reference says."""
    total = sum(len(h) for h in histories.values())
    return (
        await count(engine) == total
        and await live_rows(engine) == reference_rows(histories)
        and await live_rows(engine, stage_timings) == reference_timings(histories.values())
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
async def running(settings: Settings) -> AsyncIterator[ProjectorRuntime]:
    """The projector's FastStream app, served in this event loop until the block ends."""
    async with projector_runtime(settings) as runtime:
        task = asyncio.create_task(runtime.app.run())
        try:
            yield runtime
        finally:
            runtime.app.exit()
            await asyncio.wait_for(task, 30)


def settings_env(settings: Settings) -> dict[str, str]:
    """``settings`` as the RESUMEFLOW_* variables that give a new process the same settings."""
    env: dict[str, str] = {}
    for name, value in settings:
        if name in ("log", "projections", "workers", "api"):
            for field, inner in value:
                if inner is not None:
                    env[f"RESUMEFLOW_{field.upper()}"] = _text(inner)
        elif value is not None:
            env[f"RESUMEFLOW_{name.upper()}"] = _text(value)
    return env


def _text(value: Any) -> str:
    secret = getattr(value, "get_secret_value", None)
    return str(secret() if secret else value)
