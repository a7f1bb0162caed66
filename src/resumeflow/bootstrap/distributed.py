"""The workers' composition root: settings in, a Services with its clients out.

Runs on the worker process's event loop (tasks/loop.py), so every client made here is bound to
that loop and lives as long as the process; ``aclose`` releases them in reverse order. Each
adapter is chosen on its own: ``local`` (the embedded mode's) or ``real`` (S3; text layers read
in the worker and Textract for the rest, ADR 0007; Gemini). The event log is always the Redis
Streams store.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from redis.asyncio import Redis

from resumeflow.adapters.gemini import GeminiEmbedder, GeminiParser, make_client
from resumeflow.adapters.hybrid import HybridExtractor
from resumeflow.adapters.local.blobs import FileSystemBlobStore
from resumeflow.adapters.local.embedder import TermEmbedder
from resumeflow.adapters.local.extraction import LocalTextExtractor
from resumeflow.adapters.local.parser import LocalResumeParser
from resumeflow.adapters.rate_limit import RedisTokenBucket
from resumeflow.adapters.s3 import S3BlobStore, s3_config
from resumeflow.adapters.textract import TextractOcr
from resumeflow.bootstrap.eventlog import event_log
from resumeflow.bootstrap.settings import Settings
from resumeflow.bootstrap.telemetry import current_traceparent
from resumeflow.database.engine import create_engine
from resumeflow.database.job_posts import SqlJobPostRepository
from resumeflow.database.outages import is_server_outage
from resumeflow.domain.jobs import JobPost
from resumeflow.domain.ports import (
    BlobStore,
    Embedder,
    JobPostRepository,
    ResumeParser,
    TextExtractor,
)
from resumeflow.eventstore.redis_client import create_redis
from resumeflow.pipeline.services import RetryPolicy, Services

__all__ = ["CachedJobPosts", "WorkerRuntime", "open_worker_runtime"]


class CachedJobPosts:
    """Job posts change rarely and every score stage reads one: keep each for ``ttl`` seconds.

    Embeddings are kept by key with no expiry: a key names the text and the embedder, so a
    vector cached under it never goes stale.
    """

    def __init__(
        self, inner: JobPostRepository, ttl: float = 30.0, max_embeddings: int = 256
    ) -> None:
        self._inner = inner
        self.ttl = ttl
        self.max_embeddings = max_embeddings
        self._cache: dict[UUID, tuple[float, JobPost]] = {}
        self._embeddings: dict[tuple[UUID, str], tuple[float, ...]] = {}

    async def add(self, job: JobPost) -> None:
        await self._inner.add(job)
        self._cache.pop(job.id, None)

    async def get(self, job_post_id: UUID) -> JobPost | None:
        hit = self._cache.get(job_post_id)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        job = await self._inner.get(job_post_id)
        if job is not None:
            self._cache[job_post_id] = (time.monotonic(), job)
        return job

    async def embedding(self, job_post_id: UUID, key: str) -> tuple[float, ...] | None:
        vector = self._embeddings.get((job_post_id, key))
        if vector is None:
            vector = await self._inner.embedding(job_post_id, key)
            if vector is not None:
                self._remember(job_post_id, key, vector)
        return vector

    async def store_embedding(self, job_post_id: UUID, key: str, vector: Sequence[float]) -> None:
        await self._inner.store_embedding(job_post_id, key, vector)
        self._remember(job_post_id, key, tuple(vector))

    def _remember(self, job_post_id: UUID, key: str, vector: tuple[float, ...]) -> None:
        if len(self._embeddings) >= self.max_embeddings:
            self._embeddings.pop(next(iter(self._embeddings)))  # the oldest
        self._embeddings[(job_post_id, key)] = vector


@dataclass
class WorkerRuntime:
    settings: Settings
    services: Services
    redis: Redis
    stack: AsyncExitStack = field(repr=False)

    async def aclose(self) -> None:
        await self.stack.aclose()


async def open_worker_runtime(settings: Settings) -> WorkerRuntime:
    """Every client the stages need, opened once; close with ``aclose``."""
    stack = AsyncExitStack()
    try:
        redis = create_redis(settings.log_redis_url)
        stack.push_async_callback(redis.aclose)
        engine = create_engine(settings.database_url)
        stack.push_async_callback(engine.dispose)
        clients = _Clients(settings, stack)
        inbox, blobs = await clients.blob_stores()
        services = Services(
            events=event_log(settings, redis, engine),
            inbox=inbox,
            blobs=blobs,
            extractor=await clients.extractor(blobs),
            parser=await clients.parser(redis),
            embedder=await clients.embedder(redis),
            job_posts=CachedJobPosts(SqlJobPostRepository(engine)),
            retry=RetryPolicy(
                max_attempts=settings.max_stage_attempts,
                base_seconds=settings.retry_base_seconds,
                max_seconds=settings.retry_max_seconds,
            ),
            traceparent=current_traceparent,
            worker=f"{socket.gethostname()}:{os.getpid()}",
            stage_timeout=settings.workers.stage_timeout_seconds,
            is_outage=is_server_outage,
        )
    except BaseException:
        await stack.aclose()
        raise
    return WorkerRuntime(settings=settings, services=services, redis=redis, stack=stack)


class _Clients:
    """Builds each adapter the settings name, entering remote clients on ``stack`` once."""

    def __init__(self, settings: Settings, stack: AsyncExitStack) -> None:
        self.settings = settings
        self.stack = stack
        self._aws: Any = None
        self._s3: Any = None
        self._gemini: Any = None
        self._limiter: RedisTokenBucket | None = None

    async def _aws_client(self, service: str, region: str, endpoint: str | None) -> Any:
        import aioboto3  # only deployments that use AWS pay for importing it

        if self._aws is None:
            self._aws = aioboto3.Session()
        return await self.stack.enter_async_context(
            self._aws.client(service, endpoint_url=endpoint, config=s3_config(region))
        )

    async def _s3_client(self) -> Any:
        if self._s3 is None:
            s = self.settings
            self._s3 = await self._aws_client("s3", s.workers.s3_region, s.workers.s3_endpoint_url)
        return self._s3

    async def blob_stores(self) -> tuple[BlobStore, BlobStore]:
        s = self.settings
        if s.workers.blob_store == "real":
            client = await self._s3_client()
            return (
                S3BlobStore(
                    client,
                    bucket=s.workers.s3_bucket,
                    prefix=s.workers.s3_inbox_prefix,
                    name="inbox",
                ),
                S3BlobStore(client, bucket=s.workers.s3_bucket),
            )
        inbox = FileSystemBlobStore(s.data_dir / "inbox", name="inbox")
        return inbox, FileSystemBlobStore(s.data_dir / "blobs")

    async def extractor(self, blobs: BlobStore) -> TextExtractor:
        s = self.settings
        if s.workers.extractor == "real":
            if not isinstance(blobs, S3BlobStore):
                raise ValueError(
                    "the real extractor (Textract) reads from the real blob store (S3)"
                )
            region = s.workers.textract_region or s.workers.s3_region
            client = await self._aws_client("textract", region, s.workers.textract_endpoint_url)
            scratch = S3BlobStore(
                await self._s3_client(),
                bucket=s.workers.s3_bucket,
                prefix=s.workers.s3_ocr_prefix,
                name="ocr-pages",
            )
            ocr = TextractOcr(client, poll_seconds=s.workers.textract_poll_seconds)
            return HybridExtractor(blobs, scratch, ocr)
        return LocalTextExtractor(
            FileSystemBlobStore(s.data_dir / "blobs") if s.workers.blob_store != "real" else blobs,
            ocr_language=s.ocr_language,
        )

    def _client(self) -> Any:
        if self._gemini is None:
            s = self.settings
            self._gemini = make_client(
                s.workers.gemini_api_key.get_secret_value(),
                base_url=s.workers.gemini_base_url,
                api_version=s.workers.gemini_api_version,
                timeout_seconds=s.workers.gemini_timeout_seconds,
                attempts=s.workers.gemini_http_attempts,
            )
            self.stack.push_async_callback(self._gemini.aio.aclose)
        return self._gemini

    def _rate_limit(self, redis: Redis) -> RedisTokenBucket:
        if self._limiter is None:
            s = self.settings
            self._limiter = RedisTokenBucket(
                redis,
                key=f"{s.log.stream_prefix}:ratelimit:gemini",
                per_minute=s.workers.gemini_rate_per_minute,
            )
        return self._limiter

    async def parser(self, redis: Redis) -> ResumeParser:
        s = self.settings
        if s.workers.parser == "real":
            return GeminiParser(
                self._client(), model=s.workers.gemini_model, limiter=self._rate_limit(redis)
            )
        return LocalResumeParser()

    async def embedder(self, redis: Redis) -> Embedder:
        s = self.settings
        if s.workers.embedder == "real":
            return GeminiEmbedder(
                self._client(),
                model=s.workers.gemini_embedding_model,
                dimension=s.embedding_dimension,
                limiter=self._rate_limit(redis),
            )
        return TermEmbedder(s.embedding_dimension)
