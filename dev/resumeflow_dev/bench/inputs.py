"""The benchmark's résumés: text documents and scans, mixed in a fixed proportion.

Text documents are the shared PDFs (every one has a text layer) and DOCX files
(../shared/data/external/resumes, or under ``RESUMEFLOW_SHARED_DIR``; SOURCES.md there), or
examples/resume.pdf when the shared folder is absent. Scans are the shared image-only PNG and a
two-page image-only PDF made from it here (so both Textract paths run: the synchronous call for
the image, a polled job for the PDF); without the shared folder, a blank page stands in.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

__all__ = ["Resume", "mixed", "shared_resumes"]

_ROOT = Path(__file__).resolve().parents[3]
_TEXT_SUFFIXES = (".pdf", ".docx")


@dataclass(frozen=True)
class Resume:
    name: str
    data: bytes
    scan: bool
    job: bool = False
    """A scan sent as a Textract job (polled), rather than the synchronous call."""


def shared_resumes() -> Path | None:
    """The shared résumé folder, when this checkout has one."""
    configured = os.environ.get("RESUMEFLOW_SHARED_DIR")
    shared = Path(configured) if configured else _ROOT.parent / "shared"
    folder = shared / "data" / "external" / "resumes"
    return folder if folder.is_dir() else None


def _image_pdf(image: Image.Image, pages: int) -> bytes:
    out = io.BytesIO()
    rgb = image.convert("RGB")
    rgb.save(out, "PDF", save_all=True, append_images=[rgb] * (pages - 1))
    return out.getvalue()


def _load(folder: Path | None) -> tuple[list[Resume], list[Resume]]:
    if folder is None:
        texts = [Resume("resume.pdf", (_ROOT / "examples/resume.pdf").read_bytes(), scan=False)]
        image = Image.new("L", (800, 1000), 255)
    else:
        texts = [
            Resume(p.name, p.read_bytes(), scan=False)
            for p in sorted(folder.iterdir())
            if p.suffix.lower() in _TEXT_SUFFIXES
        ]
        pngs = sorted(folder.glob("*.png"))
        image = Image.open(pngs[0]) if pngs else Image.new("L", (800, 1000), 255)
    png = io.BytesIO()
    image.save(png, "PNG")
    scans = [
        Resume("scan.png", png.getvalue(), scan=True),
        Resume("scan.pdf", _image_pdf(image, 2), scan=True, job=True),
    ]
    return texts, scans


def mixed(scan_share: float, folder: Path | None = None) -> Iterator[Resume]:
    """Résumés forever: ``scan_share`` of them scans (evenly spread), the rest text documents,
    each kind taken in turn."""
    texts, scans = _load(folder if folder is not None else shared_resumes())
    n = text_n = scan_n = 0
    while True:
        n += 1
        if scan_share > 0 and int(n * scan_share) > int((n - 1) * scan_share):
            yield scans[scan_n % len(scans)]
            scan_n += 1
        else:
            yield texts[text_n % len(texts)]
            text_n += 1
