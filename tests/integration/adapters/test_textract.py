"""TextractOcr: synchronous reads, jobs, polling, paging, confidence and errors.

moto cannot say IN_PROGRESS then SUCCEEDED, page with NextToken, or fail, so these run through
aiobotocore's stubber on a real client. Which documents and pages reach Textract (through
moto's server) is tested with the hybrid extractor (test_hybrid_extraction.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiobotocore.stub import AioStubber

from resumeflow.adapters.textract import S3Object, TextractOcr
from resumeflow.domain.documents import PageText, TextSource
from resumeflow.domain.errors import StageError, StagePending
from tests.integration.adapters.conftest import aws_session, blocks, jobs_started

pytestmark = pytest.mark.integration

TOKEN = "0123456789abcdef0123456789abcdef-4"
SCAN = S3Object(bucket="rf-stubbed", name="resumes/sha256/ab/" + "ab" * 32)


def ocr_pages(pages: dict[int, list[str]]) -> tuple[PageText, ...]:
    return tuple(
        PageText(number=n, text="\n".join(lines), source=TextSource.OCR)
        for n, lines in sorted(pages.items())
    )


@pytest.fixture
async def stubbed() -> AsyncIterator[tuple[TextractOcr, AioStubber]]:
    """An OCR whose Textract client answers from a queue; nothing listens on port 9."""
    async with aws_session().client("textract", endpoint_url="http://127.0.0.1:9") as client:
        with AioStubber(client) as stubber:
            yield TextractOcr(client, poll_seconds=7.0, page_size=2), stubber
            stubber.assert_no_pending_responses()


def start_expected() -> dict[str, Any]:
    return {
        "DocumentLocation": {"S3Object": {"Bucket": SCAN.bucket, "Name": SCAN.name}},
        "ClientRequestToken": TOKEN,
    }


async def test_in_progress_is_pending_then_results_are_paged(
    stubbed: tuple[TextractOcr, AioStubber],
) -> None:
    ocr, stubber = stubbed
    first = blocks({1: ["Page one, line one"]})
    second = blocks({1: ["Page one, line two"], 2: ["Page two"]})

    stubber.add_response("start_document_text_detection", {"JobId": "job-1"}, start_expected())
    stubber.add_response(
        "get_document_text_detection",
        {"JobStatus": "IN_PROGRESS"},
        {"JobId": "job-1", "MaxResults": 2},
    )
    with pytest.raises(StagePending) as pending:
        await ocr.read(SCAN, sync=False, request_token=TOKEN)
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
    pages = await ocr.read(SCAN, sync=False, request_token=TOKEN)

    assert pages == ocr_pages({1: ["Page one, line one", "Page one, line two"], 2: ["Page two"]})


async def test_a_synchronous_read_names_the_s3_object(
    stubbed: tuple[TextractOcr, AioStubber],
) -> None:
    """The S3 object, not the bytes: Bytes would cap the document at 5 MB."""
    ocr, stubber = stubbed
    lines = {1: ["Ada Lovelace", "Analyst"]}
    stubber.add_response(
        "detect_document_text",
        {"Blocks": blocks(lines), "DocumentMetadata": {"Pages": 1}},
        {"Document": {"S3Object": {"Bucket": SCAN.bucket, "Name": SCAN.name}}},
    )

    assert await ocr.read(SCAN, sync=True, request_token=TOKEN) == ocr_pages(lines)


async def test_a_page_is_as_confident_as_its_lines_on_average(
    stubbed: tuple[TextractOcr, AioStubber],
) -> None:
    ocr, stubber = stubbed
    tree = [
        {"BlockType": "PAGE", "Id": "p1", "Page": 1},
        {"BlockType": "LINE", "Id": "l1", "Text": "Ada", "Page": 1, "Confidence": 99.0},
        {"BlockType": "LINE", "Id": "l2", "Text": "Lovelace", "Page": 1, "Confidence": 90.0},
        {"BlockType": "WORD", "Id": "w1", "Text": "Ada", "Page": 1, "Confidence": 10.0},
    ]
    stubber.add_response("detect_document_text", {"Blocks": tree})

    [page] = await ocr.read(SCAN, sync=True, request_token=TOKEN)

    assert (page.text, page.confidence) == ("Ada\nLovelace", 0.945)


async def test_a_failed_job_is_permanent(stubbed: tuple[TextractOcr, AioStubber]) -> None:
    ocr, stubber = stubbed
    stubber.add_response("start_document_text_detection", {"JobId": "job-2"}, start_expected())
    stubber.add_response(
        "get_document_text_detection", {"JobStatus": "FAILED", "StatusMessage": "no pages"}
    )

    with pytest.raises(StageError) as raised:
        await ocr.read(SCAN, sync=False, request_token=TOKEN)

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
    stubbed: tuple[TextractOcr, AioStubber],
    code: str,
    status: int,
    reason: str,
    retryable: bool,
) -> None:
    ocr, stubber = stubbed
    stubber.add_client_error(
        "start_document_text_detection", code, "scripted", http_status_code=status
    )

    with pytest.raises(StageError) as raised:
        await ocr.read(SCAN, sync=False, request_token=TOKEN)

    assert (raised.value.reason, raised.value.retryable) == (reason, retryable)
    assert code in raised.value.detail


async def test_a_job_through_moto_is_started_once_and_read(
    moto_endpoint: str, textract_says: Callable[[dict[int, list[str]]], None]
) -> None:
    lines = {1: ["Grace Hopper"], 2: ["COBOL"]}
    textract_says(lines)
    before = jobs_started()
    async with aws_session().client("textract", endpoint_url=moto_endpoint) as client:
        pages = await TextractOcr(client).read(SCAN, sync=False, request_token=TOKEN)

    assert pages == ocr_pages(lines)
    assert jobs_started() == before + 1
