"""OCR with AWS Textract: synchronous for what it allows, an asynchronous job for the rest.

- ``DetectDocumentText`` (one call) for PNG/JPEG and single-page PDFs up to 10 MB: the limits of
  the synchronous API. TIFF and longer PDFs go to ``StartDocumentTextDetection``.
- The job is started with ``ClientRequestToken`` = the use case's ``request_token``, so every
  poll of one attempt names the same job (Textract returns the same JobId for the same token).
  Each ``extract`` call starts-or-finds the job and asks once; IN_PROGRESS raises StagePending,
  and the caller (a Celery task) re-schedules itself with a countdown instead of sleeping.
- Results are paged through ``NextToken`` by hand: botocore has no paginator for this API.
- Failures are translated: throttling, 5xx and network errors are retryable; bad, unsupported,
  password-protected or oversized documents are permanent.
"""

from __future__ import annotations

import asyncio
import io
from collections import defaultdict
from typing import Any

import pypdf
from botocore.exceptions import BotoCoreError, ClientError

from resumeflow.adapters.s3 import S3BlobStore
from resumeflow.domain.documents import DocumentFormat, ExtractedText, PageText, TextSource
from resumeflow.domain.errors import StageError, StagePending
from resumeflow.domain.ports import BlobNotFound, DocumentRef

__all__ = ["SYNC_LIMIT_BYTES", "TextractExtractor"]

SYNC_LIMIT_BYTES = 10 * 1024 * 1024
_OCR_FORMATS = {DocumentFormat.PDF, DocumentFormat.PNG, DocumentFormat.JPEG, DocumentFormat.TIFF}
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


def _pdf_pages(data: bytes) -> int:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise StageError("password_protected", "the PDF is encrypted", retryable=False)
        return len(reader.pages)
    except StageError:
        raise
    except Exception as error:  # pypdf signals damage with many exception types
        raise StageError(
            "unreadable", f"{type(error).__name__}: {error}", retryable=False
        ) from error


def pages_from_blocks(blocks: list[dict[str, Any]]) -> tuple[PageText, ...]:
    """LINE blocks grouped by page, in reading order, as OCR pages."""
    lines: dict[int, list[str]] = defaultdict(list)
    pages: set[int] = set()
    for block in blocks:
        page = int(block.get("Page", 1))
        if block.get("BlockType") == "PAGE":
            pages.add(page)
        elif block.get("BlockType") == "LINE" and block.get("Text"):
            pages.add(page)
            lines[page].append(block["Text"])
    return tuple(
        PageText(number=n, text="\n".join(lines[n]), source=TextSource.OCR) for n in sorted(pages)
    )


class TextractExtractor:
    """TextExtractor on Textract; the document's bytes are in ``blobs``' bucket."""

    name = "textract"

    def __init__(
        self, client: Any, blobs: S3BlobStore, *, poll_seconds: float = 5.0, page_size: int = 1000
    ) -> None:
        self._client = client
        self._blobs = blobs
        self.poll_seconds = poll_seconds
        self.page_size = page_size

    async def extract(self, document: DocumentRef, *, request_token: str) -> ExtractedText:
        if document.format not in _OCR_FORMATS:
            raise StageError(
                "unsupported_format", f"Textract does not read {document.format}", retryable=False
            )
        try:
            blocks = await self._blocks(document, request_token)
        except (ClientError, BotoCoreError) as error:
            raise translate(error) from error
        except BlobNotFound as missing:  # as Textract's InvalidS3ObjectException would say
            raise StageError(
                "upload_lost", f"no object {document.blob_key}", retryable=False
            ) from missing
        return ExtractedText(
            format=document.format, pages=pages_from_blocks(blocks), extractor=self.name
        )

    async def _blocks(self, document: DocumentRef, token: str) -> list[dict[str, Any]]:
        small = document.size_bytes <= SYNC_LIMIT_BYTES
        s3_object = {
            "Bucket": self._blobs.bucket,
            "Name": self._blobs.object_name(document.blob_key),
        }
        if small and document.format in (DocumentFormat.PNG, DocumentFormat.JPEG):
            response = await self._client.detect_document_text(Document={"S3Object": s3_object})
            return list(response.get("Blocks", []))
        if small and document.format is DocumentFormat.PDF:
            data = await self._blobs.get(document.blob_key)
            if await asyncio.to_thread(_pdf_pages, data) == 1:
                # the S3 object, not the bytes: Textract takes at most 5 MB as Bytes
                response = await self._client.detect_document_text(Document={"S3Object": s3_object})
                return list(response.get("Blocks", []))
        started = await self._client.start_document_text_detection(
            DocumentLocation={"S3Object": s3_object}, ClientRequestToken=token[:64]
        )
        return await self._results(started["JobId"])

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
