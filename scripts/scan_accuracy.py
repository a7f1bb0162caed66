"""Per-field parse accuracy of the shared text resumes and of their scanned twins.

    .venv/bin/python scripts/scan_accuracy.py [--cache DIR] [--rows] [NAME_PART ...]

Twins are made into the cache folder (default: .pytest_cache/d/scans, shared with the tests)
and read through the local extractor and parser, exactly as the pipeline reads an upload.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from tests.conftest import EXTERNAL  # noqa: E402
from tests.resume_truth import FIELDS, TRUTH, accuracy, field_hits, format_table  # noqa: E402
from tests.scans import make_twin  # noqa: E402

from resumeflow.adapters.local.extraction import extract_document  # noqa: E402
from resumeflow.adapters.local.parser import parse_resume_text  # noqa: E402
from resumeflow.domain.documents import sniff_format  # noqa: E402


def _parse(path: Path) -> object:
    data = path.read_bytes()
    fmt = sniff_format(data)
    assert fmt is not None
    return parse_resume_text(extract_document(data, fmt).text)


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--cache", type=Path, default=ROOT / ".pytest_cache" / "d" / "scans")
    options.add_argument("--rows", action="store_true", help="print each document's misses")
    options.add_argument("only", nargs="*")
    args = options.parse_args()
    assert EXTERNAL is not None, "../shared/data/external is absent"
    text_hits, twin_hits = [], []
    for name, truth in TRUTH.items():
        if args.only and not any(part in name for part in args.only):
            continue
        source = EXTERNAL / "resumes" / name
        started = time.perf_counter()
        original = field_hits(_parse(source), truth)  # type: ignore[arg-type]
        twin = field_hits(_parse(make_twin(source, args.cache)), truth)  # type: ignore[arg-type]
        text_hits.append(original)
        twin_hits.append(twin)
        if args.rows:
            missed = [f for f in FIELDS if not original[f]]
            missed_twin = [f for f in FIELDS if not twin[f]]
            elapsed = time.perf_counter() - started
            print(f"{name:48} text misses {missed}  twin misses {missed_twin}  {elapsed:.1f}s")
    print(format_table({"text": accuracy(text_hits), "scan": accuracy(twin_hits)}))


if __name__ == "__main__":
    main()
