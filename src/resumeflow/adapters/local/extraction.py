"""Text extraction for the embedded mode: pypdf, python-docx, defusedxml and a local Tesseract.

OCR is decided page by page. A PDF page keeps its text layer when that layer has at least
``MIN_PAGE_CHARS`` letters or digits (``str.isalnum``, so CJK counts and the private-use glyphs
of fonts without a ToUnicode map do not); otherwise the page is rendered with pdfium and OCR'd,
and the OCR text replaces the layer only when it has more letters and digits than the layer.
A document whose pages hold no letter or digit at all fails with ``no_text``.

Every parser here reads untrusted bytes and signals malformed input with exception types of its
own choosing, so each parse boundary turns any exception into ``StageError("unreadable")``.
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
import re
import threading
from collections.abc import Iterator
from typing import Protocol

import defusedxml.ElementTree as SafeET
import docx
import pypdf
import pypdfium2 as pdfium
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.part import XmlPart
from PIL import Image, ImageOps, ImageSequence

from resumeflow.adapters.local.ocr import OcrOptions, OcrPage, ocr_page
from resumeflow.domain.documents import DocumentFormat, ExtractedText, PageText, TextSource
from resumeflow.domain.errors import StageError
from resumeflow.domain.ports import BlobStore, DocumentRef

__all__ = ["EXTRACTOR_NAME", "MIN_PAGE_CHARS", "LocalTextExtractor", "extract_document"]

EXTRACTOR_NAME = "local"
MIN_PAGE_CHARS = 20
MAX_RENDER_PIXELS = 40_000_000  # an A2 page at 300 dpi; larger pages are rendered at lower dpi

_log = logging.getLogger(__name__)
# PDFium is not thread-safe, not even across documents, and extract_document runs in threads.
_PDFIUM_LOCK = threading.Lock()

_W2006 = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_W2003 = "{http://schemas.microsoft.com/office/word/2003/wordml}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANK_RUN = re.compile(r"[^\S\n]+")


def _one_blank(match: re.Match[str]) -> str:
    run = match.group()
    return run if run in {" " * len(run), "\t" * len(run)} else " "


def _tidy(text: str) -> str:
    """Postgres refuses NUL in text, and PDF text layers put tabs, NBSPs and lone CRs between
    words: a run of mixed blanks becomes one space (runs of only spaces or only tabs stay)."""
    text = _CONTROL_CHARS.sub("", text.replace("\r\n", "\n"))
    text = _BLANK_RUN.sub(_one_blank, text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _usable_chars(text: str) -> int:
    return sum(1 for char in text if char.isalnum())


def _unreadable(detail: str, exc: BaseException) -> StageError:
    return StageError("unreadable", f"{detail}: {type(exc).__name__}: {exc}", retryable=False)


def _ocr(image: Image.Image, language: str, options: OcrOptions) -> OcrPage:
    page = ocr_page(image, language, options)
    return OcrPage(text=_tidy(page.text), confidence=page.confidence)


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
                raise _unreadable(f"pdfium cannot render page {number}", exc) from exc

    def close(self) -> None:
        with _PDFIUM_LOCK:
            if self._document is not None:
                self._document.close()
                self._document = None


def _pdf_pages(data: bytes, language: str, dpi: int, options: OcrOptions) -> list[PageText]:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == pypdf.PasswordType.NOT_DECRYPTED:
            raise StageError("password_protected", "the PDF needs a password", retryable=False)
        count = len(reader.pages)
    except StageError:
        raise
    except Exception as exc:
        raise _unreadable("pypdf cannot open the PDF", exc) from exc
    if count == 0:
        raise StageError("unreadable", "the PDF has no pages", retryable=False)
    renderer = _PdfRenderer(data, dpi)
    pages: list[PageText] = []
    try:
        for number in range(1, count + 1):
            try:
                layer = _tidy(reader.pages[number - 1].extract_text())
            except Exception as exc:  # a broken content stream: pdfium may still render it
                _log.warning("page %d has an unreadable text layer (%r); trying OCR", number, exc)
                layer = ""
            if _usable_chars(layer) >= MIN_PAGE_CHARS:
                pages.append(PageText(number=number, text=layer, source=TextSource.TEXT_LAYER))
                continue
            ocr = _ocr(renderer.render(number), language, options)
            if _usable_chars(ocr.text) > _usable_chars(layer):
                pages.append(
                    PageText(
                        number=number,
                        text=ocr.text,
                        source=TextSource.OCR,
                        confidence=ocr.confidence,
                    )
                )
            else:
                pages.append(PageText(number=number, text=layer, source=TextSource.TEXT_LAYER))
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
        raise _unreadable("Pillow cannot open the image", exc) from exc
    pages: list[PageText] = []
    with image:
        frames: Iterator[Image.Image] = ImageSequence.Iterator(image)
        for number, frame in enumerate(frames, start=1):  # a TIFF may hold many pages
            try:
                prepared = _prepare_for_ocr(frame)
            except Exception as exc:
                raise _unreadable(f"Pillow cannot decode frame {number}", exc) from exc
            ocr = _ocr(prepared, language, options)
            pages.append(
                PageText(
                    number=number, text=ocr.text, source=TextSource.OCR, confidence=ocr.confidence
                )
            )
    return pages


class _XmlNode(Protocol):
    """What the paragraph walker needs of an element: lxml's (python-docx) and ElementTree's."""

    @property
    def tag(self) -> object: ...

    @property
    def text(self) -> str | None: ...

    @property
    def tail(self) -> str | None: ...

    def __iter__(self) -> Iterator[_XmlNode]: ...


def _word_text(roots: list[_XmlNode], ns: str) -> str:
    """One line per ``w:p`` in document order, table cells and text boxes included.

    Paragraph and run properties are skipped (tab stops there are not tabs), and so is
    ``mc:Fallback``, which repeats the content of its ``mc:Choice``.
    """
    paragraph, tab = f"{ns}p", f"{ns}tab"
    breaks = {f"{ns}br", f"{ns}cr"}
    skipped = {f"{ns}pPr", f"{ns}rPr", _MC_FALLBACK}
    lines: list[str] = []

    def walk(node: _XmlNode, runs: list[str] | None) -> None:
        for child in node:
            if child.tag == paragraph:
                inner: list[str] = []
                walk(child, inner)
                lines.append("".join(inner))
            elif child.tag in skipped:
                continue
            elif runs is not None and child.tag == f"{ns}t":
                runs.append(child.text or "")
                for nested in child:  # invalid but seen in the wild: <w:t>a<w:br/>b</w:t>
                    runs.extend(("\n" if nested.tag in breaks else "", nested.tail or ""))
            elif runs is not None and child.tag == tab:
                runs.append("\t")
            elif runs is not None and child.tag in breaks:
                runs.append("\n")
            else:
                walk(child, runs)

    for root in roots:
        walk(root, None)
    return _tidy("\n".join(lines))


def _docx_text(data: bytes) -> str:
    """Headers, then the body, then footers: a resume's name is often in the header."""
    try:
        part = docx.Document(io.BytesIO(data)).part
        related = [rel for rel in part.rels.values() if not rel.is_external]
        headers = [r.target_part for r in related if r.reltype == RT.HEADER]
        footers = [r.target_part for r in related if r.reltype == RT.FOOTER]
        roots = [p.element for p in [*headers, part, *footers] if isinstance(p, XmlPart)]
        return _word_text(roots, _W2006)
    except Exception as exc:
        raise _unreadable("python-docx cannot read the document", exc) from exc


def _word_xml_text(data: bytes) -> str:
    try:
        root = SafeET.fromstring(data)
        body = root.find(f"{_W2003}body")
        return _word_text([root if body is None else body], _W2003)
    except Exception as exc:
        raise _unreadable("cannot parse the Word 2003 XML", exc) from exc


def _plain_text(data: bytes) -> str:
    try:
        return _tidy(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise _unreadable("the text is not UTF-8", exc) from exc


_ONE_PAGE_READERS = {
    DocumentFormat.DOCX: _docx_text,
    DocumentFormat.WORD_XML: _word_xml_text,
    DocumentFormat.TEXT: _plain_text,
}


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
    elif fmt in _ONE_PAGE_READERS:
        text = _ONE_PAGE_READERS[fmt](data)
        pages = [PageText(number=1, text=text, source=TextSource.TEXT_LAYER)]
    else:
        raise StageError("unsupported_format", f"no local extractor for {fmt}", retryable=False)
    if not any(_usable_chars(page.text) for page in pages):
        raise StageError("no_text", f"no text found in {len(pages)} page(s)", retryable=False)
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
