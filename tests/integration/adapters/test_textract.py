"""TextractExtractor: which API each document goes to, pages, polling, paging and errors.

Routing and grouping run through moto's Textract over HTTP (its results set by moto's hook,
the ``TextractBackend`` class attributes). moto cannot say IN_PROGRESS then SUCCEEDED, page
with NextToken, or fail, so those run through aiobotocore's stubber on a real client.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from itertools import count
from typing import Any

import pypdf
import pytest
from aiobotocore.stub import AioStubber
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.textract.models import TextractBackend, textract_backends

from resumeflow.adapters.s3 import S3BlobStore
from resumeflow.adapters.textract import TextractExtractor
from resumeflow.domain.documents import DocumentFormat, PageText, TextSource, sniff_format
from resumeflow.domain.errors import StageError, StagePending
from resumeflow.domain.ports import DocumentRef
from tests.conftest import EXTERNAL, needs_shared
from tests.integration.adapters.conftest import REGION, aws_session

pytestmark = pytest.mark.integration

TOKEN = "0123456789abcdef0123456789abcdef-4"
_ids = count(1)


def blocks(pages: dict[int, list[str]]) -> list[dict[str, Any]]:
    """Textract's block tree for ``pages``: a PAGE, then LINEs each followed by its WORDs."""
    tree: list[dict[str, Any]] = []
    for page, lines in pages.items():
        tree.append({"BlockType": "PAGE", "Id": f"b{next(_ids)}", "Page": page})
        for line in lines:
            tree.append({"BlockType": "LINE", "Id": f"b{next(_ids)}", "Text": line, "Page": page})
            tree.extend(
                {"BlockType": "WORD", "Id": f"b{next(_ids)}", "Text": word, "Page": page}
                for word in line.split()
            )
    return tree


def ocr_pages(pages: dict[int, list[str]]) -> tuple[PageText, ...]:
    return tuple(
        PageText(number=n, text="\n".join(lines), source=TextSource.OCR)
        for n, lines in sorted(pages.items())
    )


def pdf(pages: int, *, password: str | None = None) -> bytes:
    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    if password is not None:
        writer.encrypt(password, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def stored(blobs: S3BlobStore, data: bytes) -> DocumentRef:
    document_format = sniff_format(data)
    assert document_format is not None
    ref = await blobs.put(data, content_type=document_format.media_type)
    return DocumentRef(
        blob_key=ref.key, format=document_format, size_bytes=ref.size_bytes, sha256=ref.sha256
    )


def shared_file(name: str) -> bytes:
    assert EXTERNAL is not None
    return (EXTERNAL / "resumes" / name).read_bytes()


# --- through moto's server ----------------------------------------------------------------


@pytest.fixture
def textract_says(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[int, list[str]]], None]:
    """Set what moto's Textract answers (its documented hook), restored after the test."""

    def say(pages: dict[int, list[str]]) -> None:
        monkeypatch.setattr(TextractBackend, "BLOCKS", blocks(pages))
        monkeypatch.setattr(TextractBackend, "PAGES", len(pages))
        monkeypatch.setattr(TextractBackend, "JOB_STATUS", "SUCCEEDED")

    return say


@pytest.fixture
async def textract_client(moto_endpoint: str) -> AsyncIterator[Any]:
    async with aws_session().client("textract", endpoint_url=moto_endpoint) as client:
        yield client


@pytest.fixture
def extractor(textract_client: Any, blobs: S3BlobStore) -> TextractExtractor:
    return TextractExtractor(textract_client, blobs, poll_seconds=7.0)


def jobs_started() -> int:
    return len(textract_backends[DEFAULT_ACCOUNT_ID][REGION].async_text_detection_jobs)


@needs_shared
async def test_an_image_is_read_synchronously(
    extractor: TextractExtractor,
    blobs: S3BlobStore,
    textract_says: Callable[[dict[int, list[str]]], None],
) -> None:
    lines = {1: ["Senior Backend Developer", "Python, PostgreSQL, AWS"]}
    textract_says(lines)
    document = await stored(blobs, shared_file("resume-parser-api__senior-backend-developer.png"))
    before = jobs_started()

    extracted = await extractor.extract(document, request_token=TOKEN)

    assert extracted.format is DocumentFormat.PNG
    assert extracted.extractor == "textract"
    assert extracted.pages == ocr_pages(lines)  # LINE text only: WORDs are not repeated
    assert jobs_started() == before


@needs_shared
async def test_a_multi_page_pdf_goes_to_an_async_job_and_comes_out_by_page(
    extractor: TextractExtractor,
    blobs: S3BlobStore,
    textract_says: Callable[[dict[int, list[str]]], None],
) -> None:
    lines = {1: ["Jane Q. Fullstacker", "Engineer"], 2: ["Education"], 3: ["References"]}
    textract_says(lines)
    document = await stored(blobs, shared_file("hackmyresume__jane-q-fullstacker.pdf"))
    before = jobs_started()

    extracted = await extractor.extract(document, request_token=TOKEN)

    assert extracted.pages == ocr_pages(lines)
    assert [p.number for p in extracted.pages] == [1, 2, 3]
    assert extracted.text == "Jane Q. Fullstacker\nEngineer\n\nEducation\n\nReferences"
    assert jobs_started() == before + 1


async def test_an_encrypted_pdf_is_password_protected(
    extractor: TextractExtractor, blobs: S3BlobStore
) -> None:
    document = await stored(blobs, pdf(1, password="secret"))

    with pytest.raises(StageError) as raised:
        await extractor.extract(document, request_token=TOKEN)

    assert (raised.value.reason, raised.value.retryable) == ("password_protected", False)


async def test_a_damaged_pdf_is_unreadable(
    extractor: TextractExtractor, blobs: S3BlobStore
) -> None:
    document = await stored(blobs, b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage")

    with pytest.raises(StageError) as raised:
        await extractor.extract(document, request_token=TOKEN)

    assert (raised.value.reason, raised.value.retryable) == ("unreadable", False)


async def test_a_lost_blob_is_a_permanent_error(extractor: TextractExtractor) -> None:
    document = DocumentRef(
        blob_key="sha256/00/" + "0" * 64, format=DocumentFormat.PDF, size_bytes=10, sha256="0" * 64
    )

    with pytest.raises(StageError) as raised:
        await extractor.extract(document, request_token=TOKEN)

    assert (raised.value.reason, raised.value.retryable) == ("upload_lost", False)


async def test_a_format_textract_cannot_read_is_refused(extractor: TextractExtractor) -> None:
    document = DocumentRef(
        blob_key="sha256/00/" + "0" * 64, format=DocumentFormat.DOCX, size_bytes=10, sha256="0"
    )

    with pytest.raises(StageError) as raised:
        await extractor.extract(document, request_token=TOKEN)

    assert (raised.value.reason, raised.value.retryable) == ("unsupported_format", False)


# --- through aiobotocore's stubber --------------------------------------------------------

TIFF = DocumentRef(
    blob_key="sha256/ab/" + "ab" * 32, format=DocumentFormat.TIFF, size_bytes=4096, sha256="ab"
)


@pytest.fixture
async def stubbed() -> AsyncIterator[tuple[TextractExtractor, AioStubber]]:
    """An extractor whose Textract client answers from a queue; nothing listens on port 9."""
    async with aws_session().client("textract", endpoint_url="http://127.0.0.1:9") as client:
        blobs = S3BlobStore(None, bucket="rf-stubbed", prefix="resumes/")
        with AioStubber(client) as stubber:
            yield TextractExtractor(client, blobs, poll_seconds=7.0, page_size=2), stubber
            stubber.assert_no_pending_responses()


def start_expected() -> dict[str, Any]:
    return {
        "DocumentLocation": {
            "S3Object": {"Bucket": "rf-stubbed", "Name": "resumes/" + TIFF.blob_key}
        },
        "ClientRequestToken": TOKEN,
    }


async def test_in_progress_is_pending_then_results_are_paged(
    stubbed: tuple[TextractExtractor, AioStubber],
) -> None:
    extractor, stubber = stubbed
    first = blocks({1: ["Page one, line one"]})
    second = blocks({1: ["Page one, line two"], 2: ["Page two"]})

    stubber.add_response("start_document_text_detection", {"JobId": "job-1"}, start_expected())
    stubber.add_response(
        "get_document_text_detection",
        {"JobStatus": "IN_PROGRESS"},
        {"JobId": "job-1", "MaxResults": 2},
    )
    with pytest.raises(StagePending) as pending:
        await extractor.extract(TIFF, request_token=TOKEN)
    assert pending.value.retry_after_seconds == 7.0

    # the task asks again later: the same token names the same job, now done, in two pages
    stubber.add_response("start_document_text_detection", {"JobId": "job-1"}, start_expected())
    stubber.add_response(
        "get_document_text_detection",
        {"JobStatus": "SUCCEEDED", "Blocks": first, "NextToken": "page-2"},
        {"JobId": "job-1", "MaxResults": 2},
    )
    stubber.add_response(
        "get_document_text_detection",
        {"JobStatus": "SUCCEEDED", "Blocks": second},
        {"JobId": "job-1", "MaxResults": 2, "NextToken": "page-2"},
    )
    extracted = await extractor.extract(TIFF, request_token=TOKEN)

    assert extracted.pages == ocr_pages(
        {1: ["Page one, line one", "Page one, line two"], 2: ["Page two"]}
    )


async def test_a_single_page_pdf_is_read_synchronously_from_its_s3_object(
    blobs: S3BlobStore,
) -> None:
    """Through the stubber to see the request: Bytes would cap the document at 5 MB."""
    document = await stored(blobs, pdf(1))
    lines = {1: ["Ada Lovelace", "Analyst"]}
    async with aws_session().client("textract", endpoint_url="http://127.0.0.1:9") as client:
        with AioStubber(client) as stubber:
            stubber.add_response(
                "detect_document_text",
                {"Blocks": blocks(lines), "DocumentMetadata": {"Pages": 1}},
                {
                    "Document": {
                        "S3Object": {
                            "Bucket": blobs.bucket,
                            "Name": blobs.object_name(document.blob_key),
                        }
                    }
                },
            )
            extracted = await TextractExtractor(client, blobs).extract(
                document, request_token=TOKEN
            )
            stubber.assert_no_pending_responses()

    assert extracted.pages == ocr_pages(lines)


async def test_a_failed_job_is_permanent(stubbed: tuple[TextractExtractor, AioStubber]) -> None:
    extractor, stubber = stubbed
    stubber.add_response("start_document_text_detection", {"JobId": "job-2"}, start_expected())
    stubber.add_response(
        "get_document_text_detection", {"JobStatus": "FAILED", "StatusMessage": "no pages"}
    )

    with pytest.raises(StageError) as raised:
        await extractor.extract(TIFF, request_token=TOKEN)

    assert (raised.value.reason, raised.value.retryable) == ("unreadable", False)
    assert "no pages" in raised.value.detail


@pytest.mark.parametrize(
    ("code", "status", "reason", "retryable"),
    [
        ("ThrottlingException", 400, "textract_throttled", True),
        ("ProvisionedThroughputExceededException", 400, "textract_throttled", True),
        ("InternalServerError", 500, "textract_throttled", True),
        ("BadDocumentException", 400, "unreadable", False),
        ("UnsupportedDocumentException", 400, "unsupported_format", False),
        ("DocumentTooLargeException", 400, "file_too_large", False),
        ("InvalidS3ObjectException", 400, "upload_lost", False),
        ("AccessDeniedException", 403, "textract_refused", False),
    ],
)
async def test_errors_are_translated(
    stubbed: tuple[TextractExtractor, AioStubber],
    code: str,
    status: int,
    reason: str,
    retryable: bool,
) -> None:
    extractor, stubber = stubbed
    stubber.add_client_error(
        "start_document_text_detection", code, "scripted", http_status_code=status
    )

    with pytest.raises(StageError) as raised:
        await extractor.extract(TIFF, request_token=TOKEN)

    assert (raised.value.reason, raised.value.retryable) == (reason, retryable)
    assert code in raised.value.detail
