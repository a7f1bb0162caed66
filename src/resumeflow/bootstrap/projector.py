"""The projector process's composition root: settings in, a running FastStream app out.

Everything is built here and closed here; nothing connects at import time. ``resumeflow
projector`` runs it. Besides the consumer groups, the app trims the feed on a schedule (one
replica at a time, under a lock), within what every reader has read (eventstore/retention.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from faststream import FastStream
from faststream.redis.opentelemetry import RedisTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.bootstrap.eventlog import event_log
from resumeflow.bootstrap.settings import Settings
from resumeflow.bootstrap.telemetry import configure_tracing
from resumeflow.database.engine import create_engine
from resumeflow.eventstore.redis_client import create_redis
from resumeflow.eventstore.redis_streams import RedisStreamEventStore
from resumeflow.eventstore.retention import FeedCursors, trim_streams
from resumeflow.projections.archive import ArchiveProjection
from resumeflow.projections.catalog import read_models
from resumeflow.projections.projector import (
    PROJECTION,
    FetchErrors,
    Group,
    GroupProjector,
    Reading,
    build_app,
    is_outage,
)
from resumeflow.projections.retention import expire_finished

__all__ = ["ProjectorRuntime", "groups", "projector_runtime", "run_projector"]

log = logging.getLogger("resumeflow.projector")

YOUNG_GC_THRESHOLD = 100_000
"""Allocations between young collections while the projector runs (CPython's default: 700)."""


@dataclass
class ProjectorRuntime:
    settings: Settings
    engine: AsyncEngine
    redis: Redis
    store: RedisStreamEventStore
    projectors: list[GroupProjector]
    app: FastStream
    """``await app.run()`` serves until SIGINT/SIGTERM."""


def groups(settings: Settings) -> list[Group]:
    """The consumer groups and the projections each writes in one transaction: one group, the
    archive and every read model (docs/adr/0006-read-side.md)."""
    cache = settings.projections.state_cache_size
    return [Group(PROJECTION, (ArchiveProjection(), *read_models(cache_size=cache)))]


@asynccontextmanager
async def projector_runtime(
    settings: Settings, *, tracing: TracerProvider | None = None
) -> AsyncIterator[ProjectorRuntime]:
    """Engine, Redis client, one GroupProjector per group, and the FastStream app (with
    FastStream's telemetry when ``tracing``: a span per delivery, linked to its events)."""
    engine = create_engine(settings.database_url, pool_size=10, max_overflow=10)
    redis = create_redis(settings.log_redis_url)
    store = event_log(settings, redis, engine)
    p = settings.projections
    try:
        projectors = [
            GroupProjector(
                group=group,
                engine=engine,
                redis=redis,
                history=store.read,
                max_deliveries=p.max_deliveries,
            )
            for group in groups(settings)
        ]
        app = build_app(
            redis_url=settings.log_redis_url,
            redis=redis,
            streams=store.feed_keys,
            projectors=projectors,
            reading=Reading(
                consumer_name=p.consumer_name,
                batch_size=p.batch_size,
                polling_interval_ms=p.polling_interval_ms,
                claim_idle_ms=p.claim_idle_ms,
                claim_poll_ms=p.claim_poll_ms,
            ),
            middlewares=[RedisTelemetryMiddleware(tracer_provider=tracing)] if tracing else [],
        )
        _schedule_trims(app, settings, redis, store, engine)
        # What start-up made (modules, the app: ~230,000 objects) lives as long as the process;
        # out of the collector, a full collection walks only what projecting keeps (the state
        # caches), not all of it again; and a young collection comes every YOUNG_GC_THRESHOLD
        # allocations instead of 700, so fewer of them promote cache entries towards the full
        # collections that walk the caches (docs/adr/0006-read-side.md, with the figures).
        previous = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(YOUNG_GC_THRESHOLD, *previous[1:])
        yield ProjectorRuntime(settings, engine, redis, store, projectors, app)
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
        await redis.aclose()
        await engine.dispose()


def _schedule_trims(
    app: FastStream,
    settings: Settings,
    redis: Redis,
    store: RedisStreamEventStore,
    engine: AsyncEngine,
) -> None:
    """Every ``trim_every_seconds`` while the app runs: trim the feed, and let finished,
    archived applications expire from Redis (projections/retention.py)."""
    cursors = FeedCursors(redis, prefix=store.prefix, feed_keys=store.feed_keys)
    every = settings.projections.trim_every_seconds
    retention = timedelta(seconds=settings.log.feed_retention_seconds)
    lock = f"{store.prefix}:retention:lock"
    task: asyncio.Task[None] | None = None

    async def trim_forever() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                if await redis.set(lock, "1", nx=True, px=int(every * 1000)):
                    reports = await trim_streams(
                        redis, store.feed_keys, retention=retention, cursors=cursors,
                        approximate=True,
                    )  # fmt: skip
                    removed = sum(r.removed for r in reports)
                    if removed:
                        log.info("trimmed %d feed entries older than %s", removed, retention)
                    expiring = await expire_finished(
                        store, engine, after_seconds=settings.log.application_retention_seconds
                    )
                    if expiring:
                        log.info("%d finished applications expire from Redis", expiring)
            except Exception as error:  # the next round tries again; an outage is no bug
                log.warning("trimming the feed failed: %s", error, exc_info=not is_outage(error))

    async def start() -> None:
        nonlocal task
        task = asyncio.create_task(trim_forever(), name="resumeflow-feed-retention")

    async def stop() -> None:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.after_startup(start)
    app.on_shutdown(stop)


async def run_projector(settings: Settings) -> None:
    logging.getLogger("resumeflow.projections.projector").addFilter(FetchErrors())
    tracing = configure_tracing("resumeflow-projector")
    try:
        async with projector_runtime(settings, tracing=tracing) as runtime:
            await runtime.app.run()
    finally:
        if tracing is not None:
            tracing.shutdown()
