"""Ports: what the use cases need from the outside world, as small Protocols named by role.

Every port has a local implementation (embedded mode) and a production one (distributed mode);
one contract test suite per port runs against each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from resumeflow.domain.documents import DocumentFormat, ExtractedText
from resumeflow.domain.errors import ConcurrencyConflict, DuplicateEvent
from resumeflow.domain.events import EventEnvelope, Stage
from resumeflow.domain.jobs import JobPost
from resumeflow.domain.resume import ParsedResume

__all__ = [
    "AppendBatch",
    "AppendOutcome",
    "BlobNotFound",
    "BlobRef",
    "BlobStore",
    "Dispatcher",
    "DocumentRef",
    "Embedder",
    "EventStore",
    "FeedPage",
    "JobPostRepository",
    "ResumeParser",
    "TextExtractor",
]


class FeedPage(BaseModel):
    """A page of the global feed and the position to continue from (opaque to callers)."""

    model_config = ConfigDict(frozen=True)

    events: tuple[EventEnvelope, ...]
    position: str


@dataclass(frozen=True, slots=True)
class AppendBatch:
    """One application's events for ``append_many``: what one ``append`` call would take."""

    application_id: UUID
    events: Sequence[EventEnvelope]
    expected_version: int


AppendOutcome = int | ConcurrencyConflict | DuplicateEvent
"""The new version of a batch's stream, or the error ``append`` would have raised for it."""


class EventStore(Protocol):
    """The log. Appends are atomic per call and checked against the version the caller expects.

    - ``append`` writes all of ``events`` or none. It raises ConcurrencyConflict when the stream
      is not at ``expected_version``. When every event id in the call was appended before, it
      writes nothing and returns the current version (a retried append is harmless); when only
      some were, it raises DuplicateEvent.
    - ``read`` returns one application's events in version order, upcast to current schemas.
    - ``read_feed`` returns events of all applications after ``after`` (None: from the start);
      each application's events appear in version order, every event exactly once.
    - ``append_many`` appends many batches (bulk producers, replays) as if by one ``append`` each,
      in order, and returns one outcome per batch. Each batch is atomic and checked on its own;
      there is no atomicity across batches. A malformed batch (ValueError) refuses the whole call
      before anything is written.
    """

    async def append(
        self, application_id: UUID, events: Sequence[EventEnvelope], *, expected_version: int
    ) -> int: ...

    async def append_many(self, batches: Sequence[AppendBatch]) -> list[AppendOutcome]: ...

    async def read(
        self, application_id: UUID, *, after_version: int = 0
    ) -> list[EventEnvelope]: ...

    async def read_feed(self, *, after: str | None = None, limit: int = 1000) -> FeedPage: ...


class Dispatcher(Protocol):
    """Hands an application to whatever runs its stages, once the event it depends on is stored.

    The embedded mode runs them in process (asyncio tasks); the distributed mode sends a Celery
    message. Delivery may repeat or be lost: the stages are idempotent, and what is due is always
    decided again from the log (the sweeper finds what a lost message left behind).
    """

    async def dispatch(self, application_id: UUID, stage: Stage) -> None: ...


class BlobNotFound(KeyError):
    """No blob under that key."""


class BlobRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    sha256: str
    size_bytes: int


class BlobStore(Protocol):
    """Content-addressed bytes: the key derives from the content, never from a file name."""

    name: str

    async def put(self, data: bytes, *, content_type: str) -> BlobRef: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...


class DocumentRef(BaseModel):
    """A stored document as a stage sees it."""

    model_config = ConfigDict(frozen=True)

    blob_key: str
    format: DocumentFormat
    size_bytes: int
    sha256: str


class TextExtractor(Protocol):
    """Text of a stored document, page by page, OCR where a page has no usable text.

    ``request_token`` is stable for one attempt of one application, so a remote job started by a
    repeated call is the same job (Textract's ClientRequestToken). Raises StageError (bad input:
    ``password_protected``, ``unreadable``, ``unsupported_format``, ``no_text``; or transient) or
    StagePending when a remote job is still running.
    """

    name: str

    async def extract(self, document: DocumentRef, *, request_token: str) -> ExtractedText: ...


class ResumeParser(Protocol):
    name: str

    async def parse(self, text: str) -> ParsedResume: ...


class Embedder(Protocol):
    """Fixed-dimension, L2-normalized vectors; ``name`` and ``version`` are recorded with each."""

    name: str
    version: str
    dimension: int

    async def embed(self, texts: Sequence[str]) -> list[tuple[float, ...]]: ...


class JobPostRepository(Protocol):
    """Job posts, and each post's embedding stored beside it.

    ``embedding`` returns the post's vector when it was stored under ``key`` (which names the
    embedder and the text it saw), else None. ``store_embedding`` is idempotent: writers of one
    key write the same vector, and the last write stands.
    """

    async def add(self, job: JobPost) -> None: ...

    async def get(self, job_post_id: UUID) -> JobPost | None: ...

    async def embedding(self, job_post_id: UUID, key: str) -> tuple[float, ...] | None: ...

    async def store_embedding(
        self, job_post_id: UUID, key: str, vector: Sequence[float]
    ) -> None: ...
