"""What the use cases are given: the ports, the retry policy and a few hooks."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from resumeflow.domain.ports import (
    BlobStore,
    Embedder,
    EventStore,
    JobPostRepository,
    ResumeParser,
    TextExtractor,
)

__all__ = ["RetryPolicy", "Services"]


@dataclass(frozen=True)
class RetryPolicy:
    """How often a stage is tried, and how long to wait between tries (exponential, full jitter)."""

    max_attempts: int = 3
    base_seconds: float = 1.0
    max_seconds: float = 60.0

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait after failed ``attempt`` (1-based).

        Uniform in [0, min(max, base * 2^(attempt-1))]: full jitter spreads retries of many
        applications that failed together (a throttled API) instead of bunching them.
        """
        ceiling = min(self.max_seconds, self.base_seconds * 2.0 ** (attempt - 1))
        return ceiling * rng()


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _no_trace() -> str | None:
    return None


def _never(_: BaseException) -> bool:
    return False


@dataclass
class Services:
    events: EventStore
    inbox: BlobStore
    blobs: BlobStore
    extractor: TextExtractor
    parser: ResumeParser
    embedder: Embedder
    job_posts: JobPostRepository
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_upload_bytes: int = 10 * 1024 * 1024
    clock: Callable[[], datetime] = _utcnow
    traceparent: Callable[[], str | None] = _no_trace
    """The current W3C trace context, recorded on every event (bootstrap wires OpenTelemetry)."""
    worker: str = "embedded"
    """Who runs the stages here (a worker's host and pid), recorded on the events they append."""
    stage_timeout: float | None = None
    """Seconds one stage run may take before it counts as a retryable ``stage_timeout``."""
    is_outage: Callable[[BaseException], bool] = _never
    """Whether an error is a server of ours not answering (Postgres, Redis): such a stage run is
    not an attempt of the application's; it is raised for the caller to run again later."""
