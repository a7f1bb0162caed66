"""The API process's composition root, for either mode (``Settings.mode``).

- embedded: the embedded runtime (SQLite log with inline read models, local adapters) and an
  in-process dispatcher that drives each accepted application on this process's event loop; at
  start it resumes what a previous process left unfinished.
- distributed: the Redis Streams log, the Postgres read models and job posts, the inbox blob
  store the workers read (S3, or a shared folder), and a Celery dispatcher. Stages run in the
  workers; the stage adapters in ``services`` are never called here.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.adapters.local.blobs import FileSystemBlobStore
from resumeflow.adapters.local.embedder import TermEmbedder
from resumeflow.adapters.local.extraction import LocalTextExtractor
from resumeflow.adapters.local.parser import LocalResumeParser
from resumeflow.bootstrap.celery import CeleryDispatcher, create_celery
from resumeflow.bootstrap.embedded import embedded_runtime
from resumeflow.bootstrap.eventlog import event_log
from resumeflow.bootstrap.settings import Settings
from resumeflow.bootstrap.telemetry import current_traceparent
from resumeflow.database.api_keys import ApiKeyRepository
from resumeflow.database.engine import create_engine
from resumeflow.database.job_posts import SqlJobPostRepository
from resumeflow.database.tables import applications
from resumeflow.domain.ports import BlobStore, Dispatcher
from resumeflow.eventstore.redis_client import create_redis
from resumeflow.eventstore.redis_streams import RedisStreamEventStore
from resumeflow.pipeline.runner import InProcessDispatcher
from resumeflow.pipeline.services import RetryPolicy, Services

__all__ = ["OPEN_STATUSES", "ApiRuntime", "api_runtime"]

log = logging.getLogger("resumeflow.api")

OPEN_STATUSES = (
    "received", "stored", "text_extracted", "parsed", "embedded", "scored", "stage_failed",
    "retried",
)  # fmt: skip
"""Statuses of an accepted application that has not ended."""


@dataclass
class ApiRuntime:
    settings: Settings
    engine: AsyncEngine
    services: Services
    dispatcher: Dispatcher
    keys: ApiKeyRepository
    job_posts: SqlJobPostRepository
    redis: Redis | None = None
    store: RedisStreamEventStore | None = None
    broker: Redis | None = None
    checks: dict[str, Any] = field(default_factory=dict)

    async def ready(self) -> dict[str, str]:
        """Each dependency's answer: "ok", or what went wrong."""
        results: dict[str, str] = {}

        async def check(name: str, probe: Any) -> None:
            try:
                await probe()
                results[name] = "ok"
            except Exception as error:
                results[name] = f"{type(error).__name__}: {error}"

        async def database() -> None:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

        await check("read_models", database)
        if self.redis is not None:
            await check("log", self.redis.ping)
        else:
            await check("log", database)
        if self.broker is not None:
            await check("broker", self.broker.ping)
        return results


async def _unfinished(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        query = select(applications.c.id).where(applications.c.status.in_(OPEN_STATUSES))
        return list((await conn.execute(query)).scalars())


@asynccontextmanager
async def api_runtime(settings: Settings, *, resume: bool = True) -> AsyncIterator[ApiRuntime]:
    """The runtime of either mode; ``resume``: the embedded mode drives on what a previous
    process left unfinished (the API does; a one-off CLI command does not)."""
    if settings.mode == "embedded":
        async with embedded_runtime(settings) as embedded:
            dispatcher = InProcessDispatcher(
                embedded.services, concurrency=settings.api.embedded_concurrency
            )
            unfinished = await _unfinished(embedded.engine) if resume else []
            if unfinished:
                log.info("resuming %d unfinished applications", len(unfinished))
                await dispatcher.resume(unfinished)
            try:
                yield ApiRuntime(
                    settings=settings,
                    engine=embedded.engine,
                    services=embedded.services,
                    dispatcher=dispatcher,
                    keys=ApiKeyRepository(embedded.engine),
                    job_posts=SqlJobPostRepository(embedded.engine),
                )
            finally:
                await dispatcher.aclose()
        return
    async with AsyncExitStack() as stack:
        engine = create_engine(settings.database_url)
        stack.push_async_callback(engine.dispose)
        redis = create_redis(settings.log_redis_url)
        stack.push_async_callback(redis.aclose)
        broker = create_redis(settings.celery_broker_url)
        stack.push_async_callback(broker.aclose)
        celery = create_celery(settings)
        stack.callback(celery.close)
        store = event_log(settings, redis, engine)
        inbox = await _inbox(settings, stack)
        blobs = FileSystemBlobStore(settings.data_dir / "blobs")
        job_posts = SqlJobPostRepository(engine)
        services = Services(
            events=store,
            inbox=inbox,
            blobs=blobs,
            extractor=LocalTextExtractor(blobs),
            parser=LocalResumeParser(),
            embedder=TermEmbedder(settings.embedding_dimension),
            job_posts=job_posts,
            retry=RetryPolicy(
                max_attempts=settings.max_stage_attempts,
                base_seconds=settings.retry_base_seconds,
                max_seconds=settings.retry_max_seconds,
            ),
            max_upload_bytes=settings.max_upload_bytes,
            traceparent=current_traceparent,
        )
        yield ApiRuntime(
            settings=settings,
            engine=engine,
            services=services,
            dispatcher=CeleryDispatcher(celery),
            keys=ApiKeyRepository(engine),
            job_posts=job_posts,
            redis=redis,
            store=store,
            broker=broker,
        )


async def _inbox(settings: Settings, stack: AsyncExitStack) -> BlobStore:
    """Where uploads wait for the store stage: the workers' inbox (S3, or a shared folder)."""
    w = settings.workers
    if w.blob_store != "real":
        return FileSystemBlobStore(settings.data_dir / "inbox", name="inbox")
    import aioboto3  # only deployments on AWS pay for importing it

    from resumeflow.adapters.s3 import S3BlobStore, s3_config

    client = await stack.enter_async_context(
        aioboto3.Session().client(
            "s3", endpoint_url=w.s3_endpoint_url, config=s3_config(w.s3_region)
        )
    )
    return S3BlobStore(client, bucket=w.s3_bucket, prefix=w.s3_inbox_prefix, name="inbox")
