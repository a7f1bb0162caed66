"""Document formats, sniffed from the bytes themselves: a name or a MIME type is never trusted."""

from __future__ import annotations

import io
import zipfile
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

__all__ = ["DocumentFormat", "ExtractedText", "PageText", "TextSource", "sniff_format"]


class DocumentFormat(StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    WORD_XML = "word_xml"  # WordprocessingML 2003, often saved as ".doc"
    PNG = "png"
    JPEG = "jpeg"
    TIFF = "tiff"
    TEXT = "text"

    @property
    def is_image(self) -> bool:
        return self in {DocumentFormat.PNG, DocumentFormat.JPEG, DocumentFormat.TIFF}

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]


_MEDIA_TYPES = {
    DocumentFormat.PDF: "application/pdf",
    DocumentFormat.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    DocumentFormat.WORD_XML: "application/xml",
    DocumentFormat.PNG: "image/png",
    DocumentFormat.JPEG: "image/jpeg",
    DocumentFormat.TIFF: "image/tiff",
    DocumentFormat.TEXT: "text/plain",
}


def sniff_format(data: bytes) -> DocumentFormat | None:
    """The format of ``data`` judged by its content, or None when it is none we accept.

    The PDF header may sit anywhere in the first kilobyte (the PDF spec tolerates leading junk).
    A ZIP is a DOCX only when it holds ``word/document.xml``. Plain text must decode as UTF-8
    with no NUL bytes.
    """
    head = data[:1024]
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return DocumentFormat.PNG
    if data.startswith(b"\xff\xd8\xff"):
        return DocumentFormat.JPEG
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return DocumentFormat.TIFF
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, NotImplementedError, OSError):
            return None  # a damaged central directory raises any of these, not only BadZipFile
        return DocumentFormat.DOCX if "word/document.xml" in names else None
    if b"%PDF-" in head:  # after the magic numbers: a PNG or ZIP may carry "%PDF-" in its head
        return DocumentFormat.PDF
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<?xml") or stripped.startswith(b"<w:wordDocument"):
        if b"schemas.microsoft.com/office/word/2003/wordml" in data[:8192]:
            return DocumentFormat.WORD_XML
        return None
    if b"\x00" in data:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return DocumentFormat.TEXT if data.strip() else None


class TextSource(StrEnum):
    TEXT_LAYER = "text_layer"
    OCR = "ocr"


class PageText(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    text: str
    source: TextSource
    confidence: float | None = None
    """OCR pages: the engine's mean word confidence in 0..1; None for a text layer."""


class ExtractedText(BaseModel):
    """What a TextExtractor returns: the text of each page and how it was obtained."""

    model_config = ConfigDict(frozen=True)

    format: DocumentFormat
    pages: tuple[PageText, ...]
    extractor: str

    @property
    def text(self) -> str:
        return "\n\n".join(page.text for page in self.pages).strip()

    @property
    def ocr_pages(self) -> int:
        return sum(1 for page in self.pages if page.source is TextSource.OCR)
