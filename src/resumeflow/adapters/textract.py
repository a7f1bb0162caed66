"""OCR with AWS Textract: synchronous for what it allows, an asynchronous job for the rest.

- ``DetectDocumentText`` (one call) for PNG/JPEG and single-page PDFs up to 10 MB: the limits of
  the synchronous API. TIFF and longer PDFs go to ``StartDocumentTextDetection``.
- Both read an S3 object, never bytes: the synchronous API takes at most 5 MB as bytes, and the
  asynchronous one takes nothing else.
- The job is started with ``ClientRequestToken`` = the use case's ``request_token``, so every
  poll of one attempt names the same job (Textract returns the same JobId for the same token).
  Each ``read`` call starts-or-finds the job and asks once; IN_PROGRESS raises StagePending,
  and the caller (a Celery task) re-schedules itself with a countdown instead of sleeping.
- Results are paged through ``NextToken`` by hand: botocore has no paginator for this API.
- Failures are translated: throttling, 5xx and network errors are retryable; bad, unsupported,
  password-protected or oversized documents are permanent.

Which documents and pages reach Textract at all is the hybrid extractor's decision (hybrid.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from resumeflow.domain.documents import DocumentFormat, PageText, TextSource
from resumeflow.domain.errors import StageError, StagePending

__all__ = ["SYNC_LIMIT_BYTES", "S3Object", "TextractOcr", "pages_from_blocks", "synchronous"]

SYNC_LIMIT_BYTES = 10 * 1024 * 1024
_RETRYABLE = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "LimitExceededException",
    "InternalServerError",
    "ServiceUnavailableException",
    "RequestTimeout",
}
_PERMANENT = {
    "UnsupportedDocumentException": "unsupported_format",
    "BadDocumentException": "unreadable",
    "DocumentTooLargeException": "file_too_large",
    "InvalidS3ObjectException": "upload_lost",
    "InvalidParameterException": "unreadable",
    "InvalidJobIdException": "textract_job_lost",
}


def translate(error: ClientError | BotoCoreError) -> StageError:
    """The StageError a Textract failure means for the application."""
    if isinstance(error, BotoCoreError):
        return StageError(
            "textract_unavailable", f"{type(error).__name__}: {error}", retryable=True
        )
    code = error.response.get("Error", {}).get("Code", "")
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    detail = f"{code}: {error.response.get('Error', {}).get('Message', '')}"
    if code in _PERMANENT:
        return StageError(_PERMANENT[code], detail, retryable=False)
    if code in _RETRYABLE or status >= 500 or status == 429:
        return StageError("textract_throttled", detail, retryable=True)
    return StageError("textract_refused", detail, retryable=False)


def synchronous(fmt: DocumentFormat, size_bytes: int, pages: int | None) -> bool:
    """Whether ``DetectDocumentText`` takes the document: PNG, JPEG or a one-page PDF, <= 10 MB.

    ``pages`` is the PDF's page count (None when unknown: an image).
    """
    if size_bytes > SYNC_LIMIT_BYTES:
        return False
    return fmt in (DocumentFormat.PNG, DocumentFormat.JPEG) or (
        fmt is DocumentFormat.PDF and pages == 1
    )


def pages_from_blocks(blocks: list[dict[str, Any]]) -> tuple[PageText, ...]:
    """LINE blocks grouped by page, in reading order, as OCR pages; a page's confidence is the
    mean of its lines' (Textract gives 0-100, pages carry 0-1), None when no line has one."""
    lines: dict[int, list[str]] = defaultdict(list)
    confidences: dict[int, list[float]] = defaultdict(list)
    pages: set[int] = set()
    for block in blocks:
        page = int(block.get("Page", 1))
        if block.get("BlockType") == "PAGE":
            pages.add(page)
        elif block.get("BlockType") == "LINE" and block.get("Text"):
            pages.add(page)
            lines[page].append(block["Text"])
            if block.get("Confidence") is not None:
                confidences[page].append(float(block["Confidence"]) / 100)
    return tuple(
        PageText(
            number=n,
            text="\n".join(lines[n]),
            source=TextSource.OCR,
            confidence=round(sum(confidences[n]) / len(confidences[n]), 4)
            if confidences[n]
            else None,
        )
        for n in sorted(pages)
    )


@dataclass(frozen=True)
class S3Object:
    """Where Textract reads a document: a bucket and an object name."""

    bucket: str
    name: str


class TextractOcr:
    """OCR pages of a document stored in S3; ``client`` is an entered aioboto3 Textract client."""

    def __init__(self, client: Any, *, poll_seconds: float = 5.0, page_size: int = 1000) -> None:
        self._client = client
        self.poll_seconds = poll_seconds
        self.page_size = page_size

    async def read(
        self, document: S3Object, *, sync: bool, request_token: str
    ) -> tuple[PageText, ...]:
        """The pages Textract reads in ``document``, numbered as in it.

        ``sync``: one ``DetectDocumentText`` call (see ``synchronous``); otherwise a job, and
        StagePending while it runs. Raises StageError for Textract's failures.
        """
        location = {"Bucket": document.bucket, "Name": document.name}
        try:
            if sync:
                response = await self._client.detect_document_text(Document={"S3Object": location})
                return pages_from_blocks(list(response.get("Blocks", [])))
            started = await self._client.start_document_text_detection(
                DocumentLocation={"S3Object": location}, ClientRequestToken=request_token[:64]
            )
            return pages_from_blocks(await self._results(started["JobId"]))
        except (ClientError, BotoCoreError) as error:
            raise translate(error) from error

    async def _results(self, job_id: str) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        next_token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"JobId": job_id, "MaxResults": self.page_size}
            if next_token:
                kwargs["NextToken"] = next_token
            page = await self._client.get_document_text_detection(**kwargs)
            status = page.get("JobStatus")
            if status == "IN_PROGRESS":
                raise StagePending(f"textract job {job_id} in progress", self.poll_seconds)
            if status == "FAILED":
                raise StageError(
                    "unreadable",
                    f"textract job {job_id}: {page.get('StatusMessage', '')}",
                    retryable=False,
                )
            blocks.extend(page.get("Blocks", []))
            next_token = page.get("NextToken")
            if not next_token:
                return blocks
