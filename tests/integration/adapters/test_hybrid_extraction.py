"""HybridExtractor against moto's S3 and Textract over HTTP: what is read in the worker, and
what (only) is sent to Textract.

Every Textract request the client makes is recorded at the client's edge (botocore's public
``provide-client-params`` event), so a test sees each call and the S3 object it names; moto's
own job list confirms no job was started where none should be.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdf
import pypdfium2 as pdfium
import pytest
from aiobotocore.stub import AioStubber
from PIL import Image

from resumeflow.adapters.hybrid import HybridExtractor
from resumeflow.adapters.s3 import S3BlobStore
from resumeflow.adapters.textract import TextractOcr
from resumeflow.bootstrap.distributed import open_worker_runtime
from resumeflow.domain.documents import DocumentFormat, ExtractedText, TextSource, sniff_format
from resumeflow.domain.errors import StageError, StagePending
from resumeflow.domain.ports import DocumentRef
from tests.conftest import EXTERNAL, needs_shared, settings_from
from tests.integration.adapters.conftest import aws_session, blocks, jobs_started

pytestmark = pytest.mark.integration

TOKEN = "0123456789abcdef0123456789abcdef-4"
Say = Callable[[dict[int, list[str]]], None]


@dataclass
class Recorded:
    """Textract calls made by the client: (operation, parameters as the caller passed them)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, params))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def object_names(self) -> list[str]:
        """The S3 object each call asked Textract to read."""
        return [
            (params.get("Document") or params["DocumentLocation"])["S3Object"]["Name"]
            for name, params in self.calls
            if name != "GetDocumentTextDetection"
        ]


@pytest.fixture
def scratch(s3_client: Any, bucket: str) -> S3BlobStore:
    return S3BlobStore(s3_client, bucket=bucket, prefix="ocr-pages/", name="ocr-pages")


@pytest.fixture
async def textract(moto_endpoint: str) -> AsyncIterator[tuple[Any, Recorded]]:
    recorded = Recorded()
    async with aws_session().client("textract", endpoint_url=moto_endpoint) as client:
        client.meta.events.register("provide-client-params.textract.*", recorded.record)
        yield client, recorded


@pytest.fixture
def recorded(textract: tuple[Any, Recorded]) -> Recorded:
    return textract[1]


@pytest.fixture
def extractor(
    textract: tuple[Any, Recorded], blobs: S3BlobStore, scratch: S3BlobStore
) -> HybridExtractor:
    return HybridExtractor(blobs, scratch, TextractOcr(textract[0], poll_seconds=7.0))


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


def scanned(pdf: bytes, page: int = 0, dpi: int = 100) -> bytes:
    """Page ``page`` of ``pdf`` as an image-only PDF page: what a scanner produces."""
    document = pdfium.PdfDocument(pdf)
    try:
        image: Image.Image = document[page].render(scale=dpi / 72).to_pil().convert("RGB")
    finally:
        document.close()
    buffer = io.BytesIO()
    image.save(buffer, "PDF", resolution=dpi)
    return buffer.getvalue()


def merged(*pdfs: bytes) -> bytes:
    writer = pypdf.PdfWriter()
    for pdf in pdfs:
        writer.append(io.BytesIO(pdf))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def methods(extracted: ExtractedText) -> list[tuple[int, TextSource]]:
    return [(page.number, page.source) for page in extracted.pages]


async def sent_pdf(s3_client: Any, bucket: str, name: str) -> pypdf.PdfReader:
    response = await s3_client.get_object(Bucket=bucket, Key=name)
    async with response["Body"] as body:
        return pypdf.PdfReader(io.BytesIO(await body.read()))


# --- read in the worker: Textract never called ----------------------------------------------


@needs_shared
@pytest.mark.parametrize(
    ("file", "first_line", "pages"),
    [
        ("soupboss__01-Accountant.docx", "Ebony Moore", 1),
        ("soupboss__01-Accountant.pdf", "Ebony Moore", 2),
        ("hackmyresume__jane-q-fullstacker.pdf", "Jane Q. Fullstacker", 5),
        ("hackmyresume__jane-q-fullstacker.doc", "Jane Q. Fullstacker", 1),
    ],
)
async def test_docx_word_xml_and_text_pdfs_never_reach_textract(
    extractor: HybridExtractor,
    blobs: S3BlobStore,
    recorded: Recorded,
    file: str,
    first_line: str,
    pages: int,
) -> None:
    document = await stored(blobs, shared_file(file))
    before = jobs_started()

    extracted = await extractor.extract(document, request_token=TOKEN)

    assert methods(extracted) == [(n, TextSource.TEXT_LAYER) for n in range(1, pages + 1)]
    assert extracted.text.splitlines()[0] == first_line
    assert extracted.extractor == "hybrid"
    assert recorded.calls == []
    assert jobs_started() == before


async def test_plain_text_is_read_in_the_worker(
    extractor: HybridExtractor, blobs: S3BlobStore, recorded: Recorded
) -> None:
    document = await stored(blobs, b"Ada Lovelace\nAnalyst at Babbage & Co\n")

    extracted = await extractor.extract(document, request_token=TOKEN)

    assert (extracted.format, methods(extracted)) == (
        DocumentFormat.TEXT,
        [(1, TextSource.TEXT_LAYER)],
    )
    assert extracted.text == "Ada Lovelace\nAnalyst at Babbage & Co"
    assert recorded.calls == []


# --- Textract for what has no text layer ----------------------------------------------------


@needs_shared
async def test_an_image_goes_to_textract_synchronously(
    extractor: HybridExtractor,
    blobs: S3BlobStore,
    recorded: Recorded,
    textract_says: Say,
) -> None:
    textract_says({1: ["Senior Backend Developer", "Python, PostgreSQL, AWS"]})
    document = await stored(blobs, shared_file("resume-parser-api__senior-backend-developer.png"))
    before = jobs_started()

    extracted = await extractor.extract(document, request_token=TOKEN)

    assert methods(extracted) == [(1, TextSource.OCR)]
    assert extracted.text == "Senior Backend Developer\nPython, PostgreSQL, AWS"
    assert recorded.names() == ["DetectDocumentText"]
    assert recorded.object_names() == [blobs.object_name(document.blob_key)]
    assert jobs_started() == before


@needs_shared
async def test_a_mixed_pdf_sends_only_its_scanned_page(
    extractor: HybridExtractor,
    blobs: S3BlobStore,
    s3_client: Any,
    bucket: str,
    recorded: Recorded,
    textract_says: Say,
) -> None:
    scan = scanned(shared_file("resume-parser-api__senior-backend-developer.pdf"))
    data = merged(shared_file("resume-matcher__barry_allen_fe.pdf"), scan)
    textract_says({1: ["SENIOR BACKEND DEVELOPER", "Python, PostgreSQL, AWS"]})
    document = await stored(blobs, data)

    extracted = await extractor.extract(document, request_token=TOKEN)

    assert methods(extracted) == [(1, TextSource.TEXT_LAYER), (2, TextSource.OCR)]
    assert extracted.pages[0].text.startswith("Barry Allen\nFront-End Developer")
    assert extracted.pages[1].text == "SENIOR BACKEND DEVELOPER\nPython, PostgreSQL, AWS"
    assert recorded.names() == ["DetectDocumentText"]  # one page: the synchronous API
    [name] = recorded.object_names()
    assert name.startswith("ocr-pages/sha256/")
    sent = await sent_pdf(s3_client, bucket, name)
    assert len(sent.pages) == 1
    assert sent.pages[0].extract_text().strip() == ""  # the scan, not the text page
    assert [image.name for image in sent.pages[0].images] != []


@needs_shared
async def test_a_pdf_with_two_scanned_pages_sends_them_as_one_job_and_maps_them_back(
    extractor: HybridExtractor,
    blobs: S3BlobStore,
    s3_client: Any,
    bucket: str,
    recorded: Recorded,
    textract_says: Say,
) -> None:
    accountant = shared_file("soupboss__01-Accountant.pdf")
    data = merged(
        shared_file("resume-matcher__barry_allen_fe.pdf"),
        scanned(accountant, 0),
        scanned(accountant, 1),
    )
    textract_says({1: ["Ebony Moore", "Seattle, WA"], 2: ["Education", "BS Accounting"]})
    document = await stored(blobs, data)
    before = jobs_started()

    extracted = await extractor.extract(document, request_token=TOKEN)

    assert methods(extracted) == [
        (1, TextSource.TEXT_LAYER),
        (2, TextSource.OCR),
        (3, TextSource.OCR),
    ]
    assert [page.text for page in extracted.pages[1:]] == [
        "Ebony Moore\nSeattle, WA",
        "Education\nBS Accounting",
    ]
    assert recorded.names() == ["StartDocumentTextDetection", "GetDocumentTextDetection"]
    assert jobs_started() == before + 1
    [name] = recorded.object_names()
    assert len((await sent_pdf(s3_client, bucket, name)).pages) == 2


@needs_shared
async def test_a_wholly_scanned_pdf_is_sent_as_stored(
    extractor: HybridExtractor, blobs: S3BlobStore, recorded: Recorded, textract_says: Say
) -> None:
    accountant = shared_file("soupboss__01-Accountant.pdf")
    textract_says({1: ["Ebony Moore"], 2: ["Education"]})
    document = await stored(blobs, merged(scanned(accountant, 0), scanned(accountant, 1)))

    extracted = await extractor.extract(document, request_token=TOKEN)

    assert methods(extracted) == [(1, TextSource.OCR), (2, TextSource.OCR)]
    assert recorded.object_names() == [blobs.object_name(document.blob_key)]


@needs_shared
async def test_a_thin_layer_stays_when_textract_finds_less(
    extractor: HybridExtractor, blobs: S3BlobStore, recorded: Recorded, textract_says: Say
) -> None:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(shared_file("soupboss__01-Accountant.pdf")))
    writer.add_blank_page()
    buffer = io.BytesIO()
    writer.write(buffer)
    textract_says({1: []})  # a blank page: Textract sees no line
    document = await stored(blobs, buffer.getvalue())

    extracted = await extractor.extract(document, request_token=TOKEN)

    assert methods(extracted) == [(n, TextSource.TEXT_LAYER) for n in (1, 2, 3)]
    assert extracted.pages[2].text == ""
    assert recorded.names() == ["DetectDocumentText"]


# --- polling: Textract's answers scripted on the same client --------------------------------


@needs_shared
async def test_every_poll_of_a_mixed_pdf_names_the_same_job_and_object(
    textract: tuple[Any, Recorded], blobs: S3BlobStore, scratch: S3BlobStore
) -> None:
    client, recorded = textract
    accountant = shared_file("soupboss__01-Accountant.pdf")
    data = merged(
        shared_file("resume-matcher__barry_allen_fe.pdf"),
        scanned(accountant, 0),
        scanned(accountant, 1),
    )
    document = await stored(blobs, data)
    extractor = HybridExtractor(blobs, scratch, TextractOcr(client, poll_seconds=7.0))
    with AioStubber(client) as stubber:
        stubber.add_response("start_document_text_detection", {"JobId": "job-1"})
        stubber.add_response("get_document_text_detection", {"JobStatus": "IN_PROGRESS"})
        with pytest.raises(StagePending) as pending:
            await extractor.extract(document, request_token=TOKEN)
        stubber.add_response("start_document_text_detection", {"JobId": "job-1"})
        stubber.add_response(
            "get_document_text_detection",
            {"JobStatus": "SUCCEEDED", "Blocks": blocks({1: ["Ebony Moore"], 2: ["Education"]})},
        )
        extracted = await extractor.extract(document, request_token=TOKEN)
        stubber.assert_no_pending_responses()

    assert pending.value.retry_after_seconds == 7.0
    starts = [params for name, params in recorded.calls if name == "StartDocumentTextDetection"]
    assert len(starts) == 2 and starts[0] == starts[1]
    assert starts[0]["ClientRequestToken"] == TOKEN
    assert [page.text for page in extracted.pages[1:]] == ["Ebony Moore", "Education"]


# --- refusals -------------------------------------------------------------------------------


def blank_pdf(*, password: str | None = None) -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=612, height=792)
    if password is not None:
        writer.encrypt(password, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (blank_pdf(password="secret"), "password_protected"),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", "unreadable"),
    ],
)
async def test_a_pdf_that_cannot_be_opened_is_refused_without_textract(
    extractor: HybridExtractor, blobs: S3BlobStore, recorded: Recorded, data: bytes, reason: str
) -> None:
    document = await stored(blobs, data)

    with pytest.raises(StageError) as raised:
        await extractor.extract(document, request_token=TOKEN)

    assert (raised.value.reason, raised.value.retryable) == (reason, False)
    assert recorded.calls == []


async def test_a_lost_blob_is_a_permanent_error(extractor: HybridExtractor) -> None:
    document = DocumentRef(
        blob_key="sha256/00/" + "0" * 64, format=DocumentFormat.PDF, size_bytes=10, sha256="0" * 64
    )

    with pytest.raises(StageError) as raised:
        await extractor.extract(document, request_token=TOKEN)

    assert (raised.value.reason, raised.value.retryable) == ("upload_lost", False)


# --- the composition root -------------------------------------------------------------------


@needs_shared
async def test_real_mode_workers_read_a_docx_through_s3_without_textract(
    moto_endpoint: str,
    bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    settings = settings_from(
        {
            "redis_url": "redis://127.0.0.1:9/0",  # never connected to by this test
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}",
            "data_dir": tmp_path,
            "blob_store": "real",
            "extractor": "real",
            "s3_bucket": bucket,
            "s3_endpoint_url": moto_endpoint,
            "textract_endpoint_url": moto_endpoint,
        }
    )
    runtime = await open_worker_runtime(settings)
    try:
        services = runtime.services
        ref = await services.blobs.put(
            shared_file("soupboss__01-Accountant.docx"),
            content_type=DocumentFormat.DOCX.media_type,
        )
        document = DocumentRef(
            blob_key=ref.key,
            format=DocumentFormat.DOCX,
            size_bytes=ref.size_bytes,
            sha256=ref.sha256,
        )
        before = jobs_started()

        extracted = await services.extractor.extract(document, request_token=TOKEN)
    finally:
        await runtime.aclose()

    assert (extracted.extractor, methods(extracted)) == ("hybrid", [(1, TextSource.TEXT_LAYER)])
    assert extracted.text.startswith("Ebony Moore")
    assert jobs_started() == before
