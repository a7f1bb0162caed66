"""Latency-simulating adapters: the real services' waiting, without the services.

They wrap the local adapters and add the time the cloud would take (S3 round trips, a Textract
job seen through several polls, a Gemini call, an embedding call), so the benchmark and the
worker tests exercise the distributed pipeline's concurrency, polling and redelivery honestly
while staying deterministic and offline. The Textract stand-in keeps its poll count in Redis:
the polls of one job land on different worker processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from redis.asyncio import Redis

from resumeflow.domain.documents import ExtractedText, PageText, TextSource
from resumeflow.domain.errors import StagePending
from resumeflow.domain.ports import BlobRef, BlobStore, DocumentRef, Embedder, ResumeParser
from resumeflow.domain.ports import TextExtractor as TextExtractorPort
from resumeflow.domain.resume import ParsedResume

__all__ = ["LatencyBlobStore", "LatencyEmbedder", "LatencyParser", "SimulatedTextract"]


class LatencyBlobStore:
    def __init__(self, inner: BlobStore, seconds: float) -> None:
        self._inner = inner
        self.seconds = seconds
        self.name = inner.name

    async def put(self, data: bytes, *, content_type: str) -> BlobRef:
        await asyncio.sleep(self.seconds)
        return await self._inner.put(data, content_type=content_type)

    async def get(self, key: str) -> bytes:
        await asyncio.sleep(self.seconds)
        return await self._inner.get(key)

    async def delete(self, key: str) -> None:
        await asyncio.sleep(self.seconds)
        await self._inner.delete(key)


class SimulatedTextract:
    """An OCR job that reports IN_PROGRESS ``polls`` times, ``poll_seconds`` apart, then
    answers with the inner extractor's text marked as OCR."""

    name = "simulated-textract"

    def __init__(
        self,
        redis: Redis,
        inner: TextExtractorPort,
        *,
        polls: int = 3,
        poll_seconds: float = 0.3,
        prefix: str = "rf:sim:textract",
    ) -> None:
        self._redis = redis
        self._inner = inner
        self.polls = polls
        self.poll_seconds = poll_seconds
        self.prefix = prefix

    async def extract(self, document: DocumentRef, *, request_token: str) -> ExtractedText:
        key = f"{self.prefix}:{request_token}"
        async with self._redis.pipeline(transaction=False) as pipe:  # one round trip
            pipe.incr(key)
            pipe.expire(key, 3600)
            seen, _ = await pipe.execute()
        if int(seen) <= self.polls:
            raise StagePending(f"simulated job {request_token} in progress", self.poll_seconds)
        text = await self._inner.extract(document, request_token=request_token)
        pages = tuple(
            PageText(number=p.number, text=p.text, source=TextSource.OCR) for p in text.pages
        )
        return ExtractedText(format=text.format, pages=pages, extractor=self.name)


class LatencyParser:
    def __init__(self, inner: ResumeParser, seconds: float) -> None:
        self._inner = inner
        self.seconds = seconds
        self.name = f"simulated:{inner.name}"

    async def parse(self, text: str) -> ParsedResume:
        await asyncio.sleep(self.seconds)
        return await self._inner.parse(text)


class LatencyEmbedder:
    def __init__(self, inner: Embedder, seconds: float) -> None:
        self._inner = inner
        self.seconds = seconds
        self.name = f"simulated:{inner.name}"
        self.version = inner.version
        self.dimension = inner.dimension

    async def embed(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        await asyncio.sleep(self.seconds)
        return await self._inner.embed(texts)
