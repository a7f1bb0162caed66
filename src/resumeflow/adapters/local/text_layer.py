"""What a document says without OCR: PDF text layers, DOCX, Word 2003 XML and plain text.

Shared by the local extractor (which OCRs the rest with Tesseract) and the hybrid one (which
sends the rest to Textract), so both decide alike which pages need OCR: a page keeps its text
layer when that layer has at least ``MIN_PAGE_CHARS`` letters or digits (``str.isalnum``, so
CJK counts and the private-use glyphs of fonts without a ToUnicode map do not).

Every parser here reads untrusted bytes and signals malformed input with exception types of its
own choosing, so each parse boundary turns any exception into ``StageError("unreadable")``.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator, Sequence
from typing import Protocol

import defusedxml.ElementTree as SafeET
import docx
import pypdf
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.part import XmlPart

from resumeflow.domain.documents import DocumentFormat, PageText, TextSource
from resumeflow.domain.errors import StageError

__all__ = [
    "MIN_PAGE_CHARS",
    "ONE_PAGE_FORMATS",
    "better_reading",
    "needs_ocr",
    "open_pdf",
    "page_layer",
    "read_one_page",
    "require_text",
    "tidy",
    "unreadable",
    "usable_chars",
]

MIN_PAGE_CHARS = 20

_log = logging.getLogger(__name__)

_W2006 = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_W2003 = "{http://schemas.microsoft.com/office/word/2003/wordml}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANK_RUN = re.compile(r"[^\S\n]+")


def _one_blank(match: re.Match[str]) -> str:
    run = match.group()
    return run if run in {" " * len(run), "\t" * len(run)} else " "


def tidy(text: str) -> str:
    """Postgres refuses NUL in text, and PDF text layers put tabs, NBSPs and lone CRs between
    words: a run of mixed blanks becomes one space (runs of only spaces or only tabs stay)."""
    text = _CONTROL_CHARS.sub("", text.replace("\r\n", "\n"))
    text = _BLANK_RUN.sub(_one_blank, text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def usable_chars(text: str) -> int:
    return sum(1 for char in text if char.isalnum())


def needs_ocr(layer: str) -> bool:
    """Whether a page's text layer is too thin to keep without trying OCR."""
    return usable_chars(layer) < MIN_PAGE_CHARS


def better_reading(layer: PageText, ocr: PageText | None) -> PageText:
    """OCR replaces a thin text layer only when it found more letters and digits."""
    if ocr is not None and usable_chars(ocr.text) > usable_chars(layer.text):
        return ocr
    return layer


def require_text(pages: Sequence[PageText]) -> None:
    """A document whose pages hold no letter or digit at all fails with ``no_text``."""
    if not any(usable_chars(page.text) for page in pages):
        raise StageError("no_text", f"no text found in {len(pages)} page(s)", retryable=False)


def unreadable(detail: str, exc: BaseException) -> StageError:
    return StageError("unreadable", f"{detail}: {type(exc).__name__}: {exc}", retryable=False)


def open_pdf(data: bytes) -> pypdf.PdfReader:
    """The PDF, decrypted when it opens with an empty password; it has at least one page.

    Raises StageError ``password_protected`` or ``unreadable``.
    """
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == pypdf.PasswordType.NOT_DECRYPTED:
            raise StageError("password_protected", "the PDF needs a password", retryable=False)
        count = len(reader.pages)
    except StageError:
        raise
    except Exception as exc:
        raise unreadable("pypdf cannot open the PDF", exc) from exc
    if count == 0:
        raise StageError("unreadable", "the PDF has no pages", retryable=False)
    return reader


def page_layer(reader: pypdf.PdfReader, number: int) -> str:
    """The tidied text layer of page ``number`` (1-based); empty when it cannot be read."""
    try:
        return tidy(reader.pages[number - 1].extract_text())
    except Exception as exc:  # a broken content stream: the page may still be rendered
        _log.warning("page %d has an unreadable text layer (%r); trying OCR", number, exc)
        return ""


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
    return tidy("\n".join(lines))


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
        raise unreadable("python-docx cannot read the document", exc) from exc


def _word_xml_text(data: bytes) -> str:
    try:
        root = SafeET.fromstring(data)
        body = root.find(f"{_W2003}body")
        return _word_text([root if body is None else body], _W2003)
    except Exception as exc:
        raise unreadable("cannot parse the Word 2003 XML", exc) from exc


def _plain_text(data: bytes) -> str:
    try:
        return tidy(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise unreadable("the text is not UTF-8", exc) from exc


_ONE_PAGE_READERS = {
    DocumentFormat.DOCX: _docx_text,
    DocumentFormat.WORD_XML: _word_xml_text,
    DocumentFormat.TEXT: _plain_text,
}
ONE_PAGE_FORMATS = frozenset(_ONE_PAGE_READERS)
"""Formats read whole as one text page (no page breaks survive; never OCR'd)."""


def read_one_page(data: bytes, fmt: DocumentFormat) -> PageText:
    """A DOCX, Word 2003 XML or plain-text document as one text-layer page."""
    reader = _ONE_PAGE_READERS.get(fmt)
    if reader is None:
        raise StageError("unsupported_format", f"{fmt} is not read as one page", retryable=False)
    return PageText(number=1, text=reader(data), source=TextSource.TEXT_LAYER)
