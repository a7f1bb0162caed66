"""Latency-simulating adapters: the real services' waiting, without the services.

They wrap the local adapters and add the time the cloud would take (S3 round trips, a Textract
job seen through several polls, a Gemini call, an embedding call), so the benchmark and the
worker tests exercise the distributed pipeline's concurrency, polling and redelivery honestly
while staying deterministic and offline. The Textract stand-in keeps its poll count in Redis:
the polls of one job land on different worker processes.

The services' own compute is not ours: a real Textract, Gemini or embedding call costs a worker
a wait and a small response to decode, not the OCR or the model. So the stand-ins compute each
distinct answer once with the local adapters (keyed by the document's digest, the text, the
texts) and then only wait: otherwise a benchmark of many copies of one resume would charge the
workers' CPU with pypdf and the rules parser on every call, work the real services do elsewhere.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

from redis.asyncio import Redis

from resumeflow.domain.documents import ExtractedText, PageText, TextSource
from resumeflow.domain.errors import StagePending
from resumeflow.domain.ports import BlobRef, BlobStore, DocumentRef, Embedder, ResumeParser
from resumeflow.domain.ports import TextExtractor as TextExtractorPort
from resumeflow.domain.resume import ParsedResume

__all__ = ["LatencyBlobStore", "LatencyEmbedder", "LatencyParser", "SimulatedTextract"]

T = TypeVar("T")


class _Answers(Generic[T]):
    """The last ``size`` distinct answers of a simulated service, computed once each."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._answers: OrderedDict[Hashable, T] = OrderedDict()

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        if key in self._answers:
            self._answers.move_to_end(key)
            return self._answers[key]
        answer = await compute()
        self._answers[key] = answer
        if len(self._answers) > self._size:
            self._answers.popitem(last=False)
        return answer


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
        self._answers: _Answers[ExtractedText] = _Answers()

    async def extract(self, document: DocumentRef, *, request_token: str) -> ExtractedText:
        key = f"{self.prefix}:{request_token}"
        async with self._redis.pipeline(transaction=False) as pipe:  # one round trip
            pipe.incr(key)
            pipe.expire(key, 3600)
            seen, _ = await pipe.execute()
        if int(seen) <= self.polls:
            raise StagePending(f"simulated job {request_token} in progress", self.poll_seconds)
        text = await self._answers.get(
            (document.sha256, document.format),
            lambda: self._inner.extract(document, request_token=request_token),
        )
        pages = tuple(
            PageText(number=p.number, text=p.text, source=TextSource.OCR) for p in text.pages
        )
        return ExtractedText(format=text.format, pages=pages, extractor=self.name)


class LatencyParser:
    def __init__(self, inner: ResumeParser, seconds: float) -> None:
        self._inner = inner
        self.seconds = seconds
        self.name = f"simulated:{inner.name}"
        self._answers: _Answers[ParsedResume] = _Answers()

    async def parse(self, text: str) -> ParsedResume:
        await asyncio.sleep(self.seconds)
        return await self._answers.get(text, lambda: self._inner.parse(text))


class LatencyEmbedder:
    def __init__(self, inner: Embedder, seconds: float) -> None:
        self._inner = inner
        self.seconds = seconds
        self.name = f"simulated:{inner.name}"
        self.version = inner.version
        self.dimension = inner.dimension
        self._answers: _Answers[list[tuple[float, ...]]] = _Answers()

    async def embed(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        await asyncio.sleep(self.seconds)
        vectors = await self._answers.get(tuple(texts), lambda: self._inner.embed(texts))
        return list(vectors)  # a copy: callers own their list
