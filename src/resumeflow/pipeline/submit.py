"""Submitting an application: check the upload, park its bytes, record ``application.received``."""

from __future__ import annotations

import hashlib
import re
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from resumeflow.domain.documents import DocumentFormat, sniff_format
from resumeflow.domain.errors import UnknownJobPost, UploadRejected
from resumeflow.domain.events import ApplicationReceived, EventEnvelope
from resumeflow.domain.ids import new_id
from resumeflow.pipeline.services import Services

__all__ = ["SubmitApplication", "submit_application"]

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


async def submit_application(services: Services, command: SubmitApplication) -> UUID:
    """Accept an upload or refuse it with UploadRejected/UnknownJobPost; nothing is half-stored.

    The bytes go to the inbox before the event is appended: a crash in between leaves an
    orphaned blob (harmless, content-addressed), never an event pointing at nothing.
    """
    if not command.data:
        raise UploadRejected("empty_file", "the uploaded file is empty")
    if len(command.data) > services.max_upload_bytes:
        raise UploadRejected(
            "file_too_large",
            f"{len(command.data)} bytes; the limit is {services.max_upload_bytes} bytes",
        )
    if not _EMAIL.match(command.email):
        raise UploadRejected("invalid_email", f"{command.email!r} is not an email address")
    fmt = sniff_format(command.data)
    if fmt is None:
        raise UploadRejected(
            "unsupported_format",
            "the file is not a PDF, DOCX, Word XML, PNG, JPEG, TIFF or UTF-8 text document",
        )
    suffix = "." + command.filename.rsplit(".", 1)[-1].casefold() if "." in command.filename else ""
    if fmt is DocumentFormat.TEXT and suffix in _BINARY_SUFFIXES:
        raise UploadRejected(
            "format_mismatch", f"the file is named {suffix} but holds plain text, not a document"
        )
    if await services.job_posts.get(command.job_post_id) is None:
        raise UnknownJobPost(f"no job post {command.job_post_id}")
    parked = await services.inbox.put(command.data, content_type=fmt.media_type)
    application_id = new_id()
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
            sha256=hashlib.sha256(command.data).hexdigest(),
            inbox_key=parked.key,
        ),
        traceparent=services.traceparent(),
        occurred_at=services.clock(),
    )
    await services.events.append(application_id, [event], expected_version=0)
    return application_id
