"""Real mode's TextExtractor: the text layer in the worker, Textract only where there is none.

- DOCX, Word 2003 XML and plain text are read here (Textract reads none of them).
- A PDF is read here page by page; the pages whose layer is too thin (``needs_ocr``, the rule
  the local extractor uses) go to Textract, and its reading replaces a thin layer only when it
  found more letters and digits. When only some pages need OCR, Textract is sent a PDF of just
  those pages (built with pypdf), stored in the bucket under the OCR prefix: Textract reads S3
  objects (its asynchronous API nothing else), and the object is content-addressed, so every
  poll of one job names the same object. Its pages are mapped back to the original numbers.
- Images go to Textract whole.

Polling is Textract's (``TextractOcr``): while a job runs, ``extract`` raises StagePending, and
the next call reads the layer again (cheap) and asks for the same job (same request token).
Each page's method is in the result (``PageText.source``), and so in ``text_extracted``.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

import pypdf

from resumeflow.adapters.local.text_layer import (
    ONE_PAGE_FORMATS,
    better_reading,
    needs_ocr,
    open_pdf,
    page_layer,
    read_one_page,
    require_text,
    unreadable,
)
from resumeflow.adapters.s3 import S3BlobStore
from resumeflow.adapters.textract import S3Object, TextractOcr, synchronous
from resumeflow.domain.documents import DocumentFormat, ExtractedText, PageText, TextSource
from resumeflow.domain.errors import StageError
from resumeflow.domain.ports import BlobNotFound, DocumentRef

__all__ = ["EXTRACTOR_NAME", "HybridExtractor"]

EXTRACTOR_NAME = "hybrid"


@dataclass(frozen=True)
class _Reading:
    """A document as read in the worker: each page's layer, the pages that need OCR, and the
    PDF to send for them when it is not the stored document itself."""

    layers: tuple[PageText, ...]
    ocr: tuple[int, ...]
    subset: bytes | None


def _pdf_of(reader: pypdf.PdfReader, numbers: tuple[int, ...]) -> bytes:
    try:
        writer = pypdf.PdfWriter()
        for number in numbers:
            writer.add_page(reader.pages[number - 1])
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    except Exception as exc:
        raise unreadable("pypdf cannot copy the pages to OCR", exc) from exc


def _read_here(data: bytes, fmt: DocumentFormat) -> _Reading:
    """CPU-bound and blocking (pypdf, python-docx): callers use a thread."""
    if fmt in ONE_PAGE_FORMATS:
        return _Reading((read_one_page(data, fmt),), (), None)
    if fmt is not DocumentFormat.PDF:
        raise StageError("unsupported_format", f"no text layer in {fmt}", retryable=False)
    reader = open_pdf(data)
    layers = tuple(
        PageText(number=n, text=page_layer(reader, n), source=TextSource.TEXT_LAYER)
        for n in range(1, len(reader.pages) + 1)
    )
    ocr = tuple(page.number for page in layers if needs_ocr(page.text))
    # a wholly scanned PDF is sent as stored, unless Textract could not open it (encrypted)
    if not ocr or (len(ocr) == len(layers) and not reader.is_encrypted):
        return _Reading(layers, ocr, None)
    return _Reading(layers, ocr, _pdf_of(reader, ocr))


class HybridExtractor:
    """TextExtractor on the worker's text-layer readers and Textract.

    ``blobs`` holds the documents, ``scratch`` the page subsets sent to Textract (same bucket,
    another prefix, so a lifecycle rule can expire them).
    """

    name = EXTRACTOR_NAME

    def __init__(self, blobs: S3BlobStore, scratch: S3BlobStore, ocr: TextractOcr) -> None:
        self._blobs = blobs
        self._scratch = scratch
        self._ocr = ocr

    async def extract(self, document: DocumentRef, *, request_token: str) -> ExtractedText:
        fmt = document.format
        if fmt.is_image:
            pages = await self._ocr.read(
                self._stored(document),
                sync=synchronous(fmt, document.size_bytes, None),
                request_token=request_token,
            )
        else:
            try:
                data = await self._blobs.get(document.blob_key)
            except BlobNotFound as missing:
                raise StageError(
                    "upload_lost", f"no object {document.blob_key}", retryable=False
                ) from missing
            reading = await asyncio.to_thread(_read_here, data, fmt)
            found = await self._ocr_pages(document, reading, request_token) if reading.ocr else {}
            pages = tuple(
                better_reading(page, found.get(page.number)) if page.number in reading.ocr else page
                for page in reading.layers
            )
        require_text(pages)
        return ExtractedText(format=fmt, pages=pages, extractor=self.name)

    def _stored(self, document: DocumentRef) -> S3Object:
        return S3Object(self._blobs.bucket, self._blobs.object_name(document.blob_key))

    async def _ocr_pages(
        self, document: DocumentRef, reading: _Reading, request_token: str
    ) -> dict[int, PageText]:
        """Textract's reading of the pages in ``reading.ocr``, by their number in ``document``."""
        if reading.subset is None:
            where, size = self._stored(document), document.size_bytes
        else:
            ref = await self._scratch.put(
                reading.subset, content_type=DocumentFormat.PDF.media_type
            )
            where = S3Object(self._scratch.bucket, self._scratch.object_name(ref.key))
            size = ref.size_bytes
        sent = reading.ocr
        pages = await self._ocr.read(
            where,
            sync=synchronous(DocumentFormat.PDF, size, len(sent)),
            request_token=request_token,
        )
        return {
            sent[page.number - 1]: page.model_copy(update={"number": sent[page.number - 1]})
            for page in pages
            if 1 <= page.number <= len(sent)
        }
