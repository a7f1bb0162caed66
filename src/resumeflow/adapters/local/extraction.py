"""Text extraction for the embedded mode: the text layer (text_layer.py) and a local Tesseract.

OCR is decided page by page (``text_layer.needs_ocr``): a PDF page whose layer is too thin is
rendered with pdfium and OCR'd, and the OCR text replaces the layer only when it has more
letters and digits than the layer. A document whose pages hold no letter or digit at all fails
with ``no_text``.
"""

from __future__ import annotations

import asyncio
import io
import math
import threading
from collections.abc import Iterator

import pypdfium2 as pdfium
from PIL import Image, ImageOps, ImageSequence

from resumeflow.adapters.local.ocr import OcrOptions, OcrPage, ocr_page
from resumeflow.adapters.local.text_layer import (
    ONE_PAGE_FORMATS,
    better_reading,
    needs_ocr,
    open_pdf,
    page_layer,
    read_one_page,
    require_text,
    tidy,
    unreadable,
)
from resumeflow.domain.documents import DocumentFormat, ExtractedText, PageText, TextSource
from resumeflow.domain.errors import StageError
from resumeflow.domain.ports import BlobStore, DocumentRef

__all__ = ["EXTRACTOR_NAME", "LocalTextExtractor", "extract_document"]

EXTRACTOR_NAME = "local"
MAX_RENDER_PIXELS = 40_000_000  # an A2 page at 300 dpi; larger pages are rendered at lower dpi

# PDFium is not thread-safe, not even across documents, and extract_document runs in threads.
_PDFIUM_LOCK = threading.Lock()


def _ocr(image: Image.Image, language: str, options: OcrOptions) -> OcrPage:
    page = ocr_page(image, language, options)
    return OcrPage(text=tidy(page.text), confidence=page.confidence)


class _PdfRenderer:
    """Opens the PDF in pdfium only when a page needs OCR; holds the lock only while rendering,
    so Tesseract (a subprocess) runs while other threads render."""

    def __init__(self, data: bytes, dpi: int) -> None:
        self._data = data
        self._dpi = dpi
        self._document: pdfium.PdfDocument | None = None

    def render(self, number: int) -> Image.Image:
        with _PDFIUM_LOCK:
            try:
                if self._document is None:
                    self._document = pdfium.PdfDocument(self._data)
                page = self._document[number - 1]
                try:
                    width, height = page.get_size()
                    scale = self._dpi / 72
                    scale = min(scale, math.sqrt(MAX_RENDER_PIXELS / max(width * height, 1.0)))
                    bitmap = page.render(scale=scale)
                    try:
                        # convert() copies: the image must not share the bitmap's buffer.
                        image: Image.Image = bitmap.to_pil().convert("L")
                        return image
                    finally:
                        bitmap.close()
                finally:
                    page.close()
            except (pdfium.PdfiumError, IndexError) as exc:
                raise unreadable(f"pdfium cannot render page {number}", exc) from exc

    def close(self) -> None:
        with _PDFIUM_LOCK:
            if self._document is not None:
                self._document.close()
                self._document = None


def _pdf_pages(data: bytes, language: str, dpi: int, options: OcrOptions) -> list[PageText]:
    reader = open_pdf(data)
    renderer = _PdfRenderer(data, dpi)
    pages: list[PageText] = []
    try:
        for number in range(1, len(reader.pages) + 1):
            layer = PageText(
                number=number, text=page_layer(reader, number), source=TextSource.TEXT_LAYER
            )
            if not needs_ocr(layer.text):
                pages.append(layer)
                continue
            ocr = _ocr(renderer.render(number), language, options)
            reading = PageText(
                number=number, text=ocr.text, source=TextSource.OCR, confidence=ocr.confidence
            )
            pages.append(better_reading(layer, reading))
    finally:
        renderer.close()
    return pages


def _prepare_for_ocr(frame: Image.Image) -> Image.Image:
    """Upright (EXIF orientation) and flattened on white: transparent pixels are often black."""
    image = ImageOps.exif_transpose(frame)
    if image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    return image.convert("L")


def _image_pages(data: bytes, language: str, options: OcrOptions) -> list[PageText]:
    try:
        image = Image.open(io.BytesIO(data))
    except Exception as exc:
        raise unreadable("Pillow cannot open the image", exc) from exc
    pages: list[PageText] = []
    with image:
        frames: Iterator[Image.Image] = ImageSequence.Iterator(image)
        for number, frame in enumerate(frames, start=1):  # a TIFF may hold many pages
            try:
                prepared = _prepare_for_ocr(frame)
            except Exception as exc:
                raise unreadable(f"Pillow cannot decode frame {number}", exc) from exc
            ocr = _ocr(prepared, language, options)
            pages.append(
                PageText(
                    number=number, text=ocr.text, source=TextSource.OCR, confidence=ocr.confidence
                )
            )
    return pages


def extract_document(
    data: bytes,
    fmt: DocumentFormat,
    *,
    ocr_language: str = "eng",
    ocr_dpi: int = 300,
    ocr_options: OcrOptions | None = None,
) -> ExtractedText:
    """The text of ``data`` page by page; CPU-bound and blocking, so async callers use a thread.

    Raises StageError (never retryable: the same bytes fail the same way): ``password_protected``,
    ``unreadable``, ``no_text``, ``ocr_unavailable`` or ``unsupported_format``.
    """
    if fmt is DocumentFormat.PDF:
        pages = _pdf_pages(data, ocr_language, ocr_dpi, ocr_options or OcrOptions())
    elif fmt.is_image:
        pages = _image_pages(data, ocr_language, ocr_options or OcrOptions())
    elif fmt in ONE_PAGE_FORMATS:
        pages = [read_one_page(data, fmt)]
    else:
        raise StageError("unsupported_format", f"no local extractor for {fmt}", retryable=False)
    require_text(pages)
    return ExtractedText(format=fmt, pages=tuple(pages), extractor=EXTRACTOR_NAME)


class LocalTextExtractor:
    """The embedded mode's TextExtractor.

    ``request_token`` is unused: extraction finishes within the call, so there is no remote job
    to deduplicate. A missing blob raises BlobNotFound: the stored event promised it exists.
    """

    name = EXTRACTOR_NAME

    def __init__(self, blobs: BlobStore, *, ocr_language: str = "eng", ocr_dpi: int = 300) -> None:
        if not 72 <= ocr_dpi <= 1200:
            raise ValueError(f"ocr_dpi must be between 72 and 1200, not {ocr_dpi}")
        self._blobs = blobs
        self._ocr_language = ocr_language
        self._ocr_dpi = ocr_dpi

    async def extract(self, document: DocumentRef, *, request_token: str) -> ExtractedText:
        data = await self._blobs.get(document.blob_key)
        return await asyncio.to_thread(
            extract_document,
            data,
            document.format,
            ocr_language=self._ocr_language,
            ocr_dpi=self._ocr_dpi,
        )
