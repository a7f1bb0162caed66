"""What ``resumeflow history`` says about an extraction: how each page was read."""

from __future__ import annotations

from resumeflow.cli.results import page_methods
from resumeflow.domain.documents import TextSource
from resumeflow.domain.events import PageSummary, TextExtracted


def test_each_page_is_named_with_its_method_and_an_ocr_pages_confidence() -> None:
    extracted = TextExtracted(
        text="Ada Lovelace\n\nAnalyst",
        pages=(
            PageSummary(number=1, source=TextSource.TEXT_LAYER, chars=12),
            PageSummary(number=2, source=TextSource.OCR, chars=7, confidence=0.934),
        ),
        extractor="hybrid",
    )

    assert page_methods(extracted) == "hybrid: p1 text layer, p2 ocr 0.93"
