"""Where each parsed field came from: its page, the page's method, and a confidence.

Any parser may fill a ParsedResume (rules or a model); provenance is found afterwards, the
same way for all of them: a value is looked up in the pages of the extracted text. A value
found as written takes its page's method and confidence (1 for a text layer, the OCR engine's
for a scanned page); a value the parser normalised ("Kubernetes" for "k8s", a phone's digits)
is found through its letters and digits alone; a value no page shows keeps no page and half
the document's confidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from resumeflow.domain.documents import TextSource
from resumeflow.domain.events import PageSummary
from resumeflow.domain.resume import FieldProvenance, ParsedResume

__all__ = ["PageSpan", "attribute", "split_pages"]

NORMALISED_FACTOR = 0.9
UNSEEN_FACTOR = 0.5


@dataclass(frozen=True)
class PageSpan:
    number: int
    text: str
    method: Literal["text", "ocr"]
    confidence: float


def split_pages(text: str, pages: Sequence[PageSummary]) -> list[PageSpan]:
    """The pages of ``text`` as the extract stage joined them (a blank line between pages,
    the whole stripped); one page when the summaries do not add up (older or foreign text)."""
    spans: list[PageSpan] = []
    position = 0
    placed = False
    for page in pages:
        if page.chars == 0:
            position += 2 if placed else 0
            continue
        chunk = text[position : position + page.chars]
        spans.append(_span(page.number, chunk, page.source, page.confidence))
        position += page.chars + 2
        placed = True
    if not spans or position - 2 != len(text):
        source = pages[0].source if pages else TextSource.TEXT_LAYER
        confidence = pages[0].confidence if pages else None
        return [_span(1, text, source, confidence)]
    return spans


def _span(number: int, text: str, source: TextSource, confidence: float | None) -> PageSpan:
    """A text layer is read as written (confidence 1); an OCR page as its engine rated it."""
    if source is TextSource.OCR:
        return PageSpan(number, text, "ocr", confidence if confidence is not None else 0.5)
    return PageSpan(number, text, "text", 1.0)


def _letters(value: str) -> str:
    return re.sub(r"[\W_]+", "", value.casefold())


def _locate(value: str | None, pages: Sequence[PageSpan]) -> FieldProvenance | None:
    if not value:
        return None
    digits = re.sub(r"\D", "", value)
    phone_like = len(digits) >= 7 and len(digits) >= len(_letters(value)) - 1
    for page in pages:
        if value.casefold() in page.text.casefold():
            return FieldProvenance(page=page.number, method=page.method, confidence=page.confidence)
    for page in pages:
        haystack = re.sub(r"\D", "", page.text) if phone_like else _letters(page.text)
        needle = digits if phone_like else _letters(value)
        if needle and needle in haystack:
            confidence = round(page.confidence * NORMALISED_FACTOR, 3)
            return FieldProvenance(page=page.number, method=page.method, confidence=confidence)
    ocr = sum(page.method == "ocr" for page in pages)
    method: Literal["text", "ocr"] = "ocr" if ocr * 2 > len(pages) else "text"
    mean = sum(p.confidence for p in pages) / len(pages) if pages else 1.0
    return FieldProvenance(page=None, method=method, confidence=round(mean * UNSEEN_FACTOR, 3))


def attribute(resume: ParsedResume, pages: Sequence[PageSpan]) -> ParsedResume:
    """``resume`` with the provenance of every field it has."""
    values: list[tuple[str, str | None]] = [
        ("name", resume.name),
        ("email", resume.email),
        ("phone", resume.phone),
        ("location", resume.location),
        ("summary", (resume.summary or "")[:60] or None),
    ]
    values += _indexed("links", (link.url.split("://")[-1] for link in resume.links))
    values += _indexed("skills", resume.skills)
    values += _indexed("work", (w.title or w.employer for w in resume.work))
    values += _indexed("education", (e.institution or e.study_type for e in resume.education))
    provenance = {
        key: found for key, value in values if (found := _locate(value, pages)) is not None
    }
    return resume.model_copy(update={"provenance": provenance})


def _indexed(field: str, values: Iterable[str | None]) -> list[tuple[str, str | None]]:
    return [(f"{field}[{i}]", value) for i, value in enumerate(values)]
