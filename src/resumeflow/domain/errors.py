"""Domain errors. Adapters translate their failures into these; use cases decide what follows."""

from __future__ import annotations

from uuid import UUID

__all__ = [
    "ConcurrencyConflict",
    "DomainError",
    "DuplicateEvent",
    "IdempotencyConflict",
    "IllegalTransition",
    "JobPostClosed",
    "StageError",
    "StagePending",
    "UnknownEventType",
    "UnknownJobPost",
    "UploadRejected",
]


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class IllegalTransition(DomainError):
    """An event that the application's current state does not allow."""


class UnknownEventType(DomainError):
    """A stored type name (or schema version) we cannot decode."""


class ConcurrencyConflict(DomainError):
    """An append named a version that is no longer the stream's current one."""

    def __init__(self, application_id: UUID, expected: int, actual: int) -> None:
        super().__init__(
            f"application {application_id}: expected version {expected}, stream is at {actual}"
        )
        self.application_id = application_id
        self.expected = expected
        self.actual = actual


class DuplicateEvent(DomainError):
    """Part of a batch was appended before (a batch is appended whole or not at all)."""


class UploadRejected(DomainError):
    """An upload refused before anything was stored; ``reason`` is a stable machine code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class UnknownJobPost(DomainError):
    """An application names a job post that does not exist."""


class JobPostClosed(DomainError):
    """An application for a job post that no longer takes applications."""


class IdempotencyConflict(DomainError):
    """An idempotency key used again for a different submission."""


class StageError(DomainError):
    """A stage could not produce its result.

    ``reason`` is a stable code (``password_protected``, ``unreadable``, ``rate_limited``, ...);
    ``retryable`` says whether trying again may help (network, 5xx, 429) or not (bad input).
    """

    def __init__(self, reason: str, detail: str = "", *, retryable: bool) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.retryable = retryable


class StagePending(DomainError):
    """The stage started work elsewhere (an OCR job) and must be asked again later."""

    def __init__(self, detail: str, retry_after_seconds: float) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after_seconds = retry_after_seconds
