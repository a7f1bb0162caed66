"""Scans read (nearly) as well as text: every shared text resume and its scanned twin, parsed
through the local extractor and parser, scored field by field against hand-written truth.

Twins are made at test time by tests/scans.py (rendered pages, skew, grain, blur, JPEG) into
pytest's cache folder; nothing binary is committed. Run with ``-s`` to see the table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from resumeflow.adapters.local.extraction import extract_document
from resumeflow.adapters.local.parser import parse_resume_text
from resumeflow.domain.documents import TextSource, sniff_format
from tests.conftest import EXTERNAL, needs_shared
from tests.resume_truth import FIELDS, TRUTH, accuracy, field_hits, format_table
from tests.scans import make_twin

# ~40 pages of OCR: about 3 minutes alone on two cores, more when the machine is shared
pytestmark = [pytest.mark.integration, pytest.mark.slow, needs_shared, pytest.mark.timeout(1800)]

TEXT_FLOOR = 90.0
# A guard against regressions, not the target (the xfail test below is). The lowest scan field
# was employer at 52.6 (10 of 19); two runs of one commit have differed by two resumes (~10
# points) in a field, so the guard sits that far below it.
SCAN_FLOOR = 42.0


@pytest.fixture(autouse=True)
def _single_threaded_tesseract(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")


def _read(path: Path) -> tuple[dict[str, bool], bool]:
    data = path.read_bytes()
    fmt = sniff_format(data)
    assert fmt is not None
    extracted = extract_document(data, fmt)
    return field_hits(parse_resume_text(extracted.text), TRUTH[_source(path)]), all(
        page.source is TextSource.OCR for page in extracted.pages
    )


def _source(path: Path) -> str:
    return next(name for name in TRUTH if path.name.startswith(Path(name).stem))


@pytest.fixture(scope="module")
def table(request: pytest.FixtureRequest) -> dict[str, dict[str, float]]:
    assert EXTERNAL is not None
    cache = Path(request.config.cache.mkdir("scans"))
    text_hits, scan_hits = [], []
    for name in TRUTH:
        original = EXTERNAL / "resumes" / name
        hits, _ = _read(original)
        text_hits.append(hits)
        twin_hits, all_ocr = _read(make_twin(original, cache))
        assert all_ocr, f"{name}: the twin must have no text layer"
        scan_hits.append(twin_hits)
    columns = {"text": accuracy(text_hits), "scan": accuracy(scan_hits)}
    print("\n" + format_table(columns))
    return columns


def test_text_originals_reach_the_floor(table: dict[str, dict[str, float]]) -> None:
    assert {f: v for f, v in table["text"].items() if v < TEXT_FLOOR} == {}


def test_scans_reach_their_floor(table: dict[str, dict[str, float]]) -> None:
    assert {f: v for f, v in table["scan"].items() if v < SCAN_FLOOR} == {}


@pytest.mark.xfail(reason="not reached yet: see docs/adr/0005-ocr-and-layout.md", strict=False)
def test_scans_are_within_5_points_of_their_text_originals(
    table: dict[str, dict[str, float]],
) -> None:
    gaps = {f: table["text"][f] - table["scan"][f] for f in FIELDS}
    assert {f: gap for f, gap in gaps.items() if gap > 5} == {}
