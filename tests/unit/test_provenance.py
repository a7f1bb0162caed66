"""Provenance of parsed fields: pages split back out of the stored text, values looked up."""

from __future__ import annotations

from uuid import uuid4

from resumeflow.domain.documents import TextSource
from resumeflow.domain.events import PageSummary, ResumeParsed, default_codec
from resumeflow.domain.provenance import attribute, split_pages
from resumeflow.domain.resume import FieldProvenance, ParsedResume, WorkEntry
from tests.factories import envelope


def _summary(
    number: int, text: str, source: TextSource, confidence: float | None = None
) -> PageSummary:
    return PageSummary(number=number, source=source, chars=len(text), confidence=confidence)


PAGE_1 = "Ada Lovelace\nada@example.org\n(555) 010-1234"
PAGE_2 = "Experience\nAnalyst, Babbage & Co 1842 - 1843\nSkills: k8s"
TEXT = f"{PAGE_1}\n\n{PAGE_2}"
PAGES = [
    _summary(1, PAGE_1, TextSource.TEXT_LAYER),
    _summary(2, PAGE_2, TextSource.OCR, 0.8),
]


def test_pages_are_split_back_as_the_extract_stage_joined_them() -> None:
    spans = split_pages(TEXT, PAGES)
    assert [(s.number, s.text, s.method, s.confidence) for s in spans] == [
        (1, PAGE_1, "text", 1.0),
        (2, PAGE_2, "ocr", 0.8),
    ]


def test_a_text_that_does_not_add_up_is_one_page() -> None:
    [span] = split_pages("something else", PAGES)
    assert (span.number, span.text) == (1, "something else")


def test_each_field_carries_its_page_method_and_confidence() -> None:
    resume = ParsedResume(
        name="Ada Lovelace",
        phone="555 010-1234",
        skills=("Kubernetes",),
        work=(WorkEntry(title="Analyst", employer="Babbage & Co"),),
    )
    found = attribute(resume, split_pages(TEXT, PAGES)).provenance
    assert found["name"] == FieldProvenance(page=1, method="text", confidence=1.0)
    assert found["phone"] == FieldProvenance(page=1, method="text", confidence=0.9)  # digits only
    assert found["work[0]"] == FieldProvenance(page=2, method="ocr", confidence=0.8)
    # "Kubernetes" is written "k8s": no page shows it, half the mean confidence
    assert found["skills[0]"] == FieldProvenance(page=None, method="text", confidence=0.45)


def test_a_parsed_event_from_before_provenance_still_decodes() -> None:
    codec = default_codec()
    record = codec.encode(
        envelope(uuid4(), 4, ResumeParsed(resume=ParsedResume(name="Ada"), parser="x"))
    )
    del record["payload"]["resume"]["provenance"]
    decoded = codec.decode(record)
    assert isinstance(decoded.payload, ResumeParsed)
    assert decoded.payload.resume.provenance == {}
