"""Submitting an application: check the upload, park its bytes, record ``application.received``,
hand it to the dispatcher. The one submit use case of the CLI and the API, in both modes.

Idempotency: with a key, the application's id (and its ``received`` event's id) derive from the
submitter and the key, so a repeated submission finds its application in the log instead of
making a second one, and the log's own deduplication settles a race between two repeats. A key
used again for a different file, post or applicant is refused.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field

from resumeflow.domain.application import ApplicationState, fold
from resumeflow.domain.documents import DocumentFormat, sniff_format
from resumeflow.domain.errors import (
    ConcurrencyConflict,
    IdempotencyConflict,
    JobPostClosed,
    UnknownJobPost,
    UploadRejected,
)
from resumeflow.domain.events import ApplicationReceived, EventEnvelope, Stage
from resumeflow.domain.ids import new_id
from resumeflow.domain.ports import Dispatcher
from resumeflow.pipeline.services import Services

__all__ = ["Accepted", "SubmitApplication", "submit_application"]

_KEYS = UUID("0193c5a2-6f1e-7b40-9a51-3c8e2f7d1b64")
"""Namespace of the ids derived from idempotency keys (uuid5)."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Names that promise a binary document: such a file that holds plain text is junk renamed.
_BINARY_SUFFIXES = frozenset(
    [".pdf", ".docx", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".gif", ".bmp", ".webp"]
)


class SubmitApplication(BaseModel):
    model_config = ConfigDict(frozen=True)

    job_post_id: UUID
    email: str
    name: str = Field(min_length=1, max_length=300)
    filename: str
    content_type: str | None = None
    data: bytes = Field(repr=False)
    submitted_by: UUID | None = None
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)


@dataclass(frozen=True)
class Accepted:
    application_id: UUID
    state: ApplicationState
    repeated: bool
    """True when an earlier submission with the same idempotency key made this application."""


async def submit_application(
    services: Services, command: SubmitApplication, dispatcher: Dispatcher | None = None
) -> Accepted:
    """Accept an upload or refuse it (UploadRejected, UnknownJobPost, JobPostClosed,
    IdempotencyConflict); nothing is half-stored.

    The bytes go to the inbox before the event is appended: a crash in between leaves an
    orphaned blob (harmless, content-addressed), never an event pointing at nothing. The
    dispatcher is told only once the event is stored; a repeated submission tells it again,
    which is harmless (stages are idempotent) and recovers a hand-off lost in a crash.
    """
    _check(services, command)
    fmt = _format(command)
    digest = hashlib.sha256(command.data).hexdigest()
    application_id, event_id = new_id(), new_id()
    if command.idempotency_key is not None:
        scope = f"{command.submitted_by or 'anonymous'}:{command.idempotency_key}"
        application_id = uuid5(_KEYS, scope)
        event_id = uuid5(_KEYS, f"{scope}:received")
        earlier = await _earlier(services, application_id, command, digest)
        if earlier is not None:
            if dispatcher is not None and earlier.next_stage is not None:
                await dispatcher.dispatch(application_id, earlier.next_stage)
            return Accepted(application_id, earlier, repeated=True)
    job = await services.job_posts.get(command.job_post_id)
    if job is None:
        raise UnknownJobPost(f"no job post {command.job_post_id}")
    if job.closed_at is not None:
        raise JobPostClosed(f"job post {job.id} closed at {job.closed_at.isoformat()}")
    parked = await services.inbox.put(command.data, content_type=fmt.media_type)
    event = EventEnvelope.new(
        application_id=application_id,
        version=1,
        payload=ApplicationReceived(
            job_post_id=command.job_post_id,
            email=command.email,
            name=command.name,
            filename=command.filename[:500],
            declared_content_type=command.content_type,
            format=fmt,
            size_bytes=len(command.data),
            sha256=digest,
            inbox_key=parked.key,
            submitted_by=command.submitted_by,
            idempotency_key=command.idempotency_key,
        ),
        traceparent=services.traceparent(),
        occurred_at=services.clock(),
    ).model_copy(update={"event_id": event_id, "correlation_id": event_id})
    try:
        await services.events.append(application_id, [event], expected_version=0)
    except ConcurrencyConflict:  # a repeat of the same key won the race: answer as it did
        earlier = await _earlier(services, application_id, command, digest)
        assert earlier is not None
        return Accepted(application_id, earlier, repeated=True)
    state = fold([event])
    assert state is not None
    if dispatcher is not None:
        await dispatcher.dispatch(application_id, Stage.STORE)
    return Accepted(application_id, state, repeated=False)


def _check(services: Services, command: SubmitApplication) -> None:
    if not command.data:
        raise UploadRejected("empty_file", "the uploaded file is empty")
    if len(command.data) > services.max_upload_bytes:
        raise UploadRejected(
            "file_too_large",
            f"{len(command.data)} bytes; the limit is {services.max_upload_bytes} bytes",
        )
    if not _EMAIL.match(command.email):
        raise UploadRejected("invalid_email", f"{command.email!r} is not an email address")


def _format(command: SubmitApplication) -> DocumentFormat:
    """The format sniffed from the bytes (the name is data only); junk renamed is refused."""
    fmt = sniff_format(command.data)
    if fmt is None:
        raise UploadRejected(
            "unsupported_format",
            "the file is not a PDF, DOCX, Word XML, PNG, JPEG, TIFF or UTF-8 text document",
        )
    name = command.filename
    suffix = "." + name.rsplit(".", 1)[-1].casefold() if "." in name else ""
    if fmt is DocumentFormat.TEXT and suffix in _BINARY_SUFFIXES:
        raise UploadRejected(
            "format_mismatch", f"the file is named {suffix} but holds plain text, not a document"
        )
    return fmt


async def _earlier(
    services: Services, application_id: UUID, command: SubmitApplication, digest: str
) -> ApplicationState | None:
    """The application an earlier use of the key made, if any; refuses a different request."""
    state = fold(await services.events.read(application_id))
    if state is None:
        return None
    same = (state.sha256, state.job_post_id, state.email, state.name) == (
        digest, command.job_post_id, command.email, command.name,
    )  # fmt: skip
    if not same:
        raise IdempotencyConflict(
            f"idempotency key {command.idempotency_key!r} was used for another submission"
        )
    return state
