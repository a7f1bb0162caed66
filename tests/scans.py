"""Scanned twins of the shared text resumes: the same pages as a scanner would return them.

A PDF's pages are rendered with pdfium; a Word document's text is typeset page by page with
Pillow (no office suite is needed). Each page is then printed-and-scanned in software: a small
rotation, paper grain, a slight blur, a grey cast and JPEG compression, from a seed derived from
the file name, so a twin is the same on every run. The twin is an image-only PDF, which sends
every page through OCR. Nothing here is committed: twins are made on demand into a cache folder.
"""

from __future__ import annotations

import hashlib
import io
import random
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from resumeflow.adapters.local import extraction
from resumeflow.adapters.local.extraction import extract_document
from resumeflow.domain.documents import DocumentFormat, sniff_format

__all__ = ["SCAN_DPI", "degrade", "make_twin", "render_pages"]

SCAN_DPI = 300  # what document scanners default to
_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
_A4_INCHES = (8.27, 11.69)


def render_pages(data: bytes, dpi: int = SCAN_DPI) -> list[Image.Image]:
    """The document's pages as greyscale images at ``dpi``."""
    fmt = sniff_format(data)
    if fmt is DocumentFormat.PDF:
        document = pdfium.PdfDocument(data)
        try:
            pages = []
            for page in document:
                bitmap = page.render(scale=dpi / 72)
                pages.append(bitmap.to_pil().convert("L"))
                bitmap.close()
                page.close()
            return pages
        finally:
            document.close()
    assert fmt is not None, "not a document"
    return _typeset(extract_document(data, fmt).text, dpi)


def _typeset(text: str, dpi: int) -> list[Image.Image]:
    """Plain pages of ``text``: the first line as a heading, the rest in 11 pt, wrapped."""
    width, height = (round(side * dpi) for side in _A4_INCHES)
    margin = dpi  # one inch
    body = ImageFont.truetype(str(_FONT), round(11 * dpi / 72))
    heading = ImageFont.truetype(str(_BOLD), round(18 * dpi / 72))
    lines = text.splitlines()
    pages: list[Image.Image] = []
    page, draw, y = _blank(width, height)
    for number, line in enumerate(lines):
        font = heading if number == 0 else body
        for chunk in _wrap(line, font, width - 2 * margin) or [""]:
            line_height = round(font.size * 1.35)
            if y + line_height > height - margin:
                pages.append(page)
                page, draw, y = _blank(width, height)
            draw.text((margin, margin + y), chunk, fill=0, font=font)
            y += line_height
    pages.append(page)
    return pages


def _blank(width: int, height: int) -> tuple[Image.Image, ImageDraw.ImageDraw, int]:
    page = Image.new("L", (width, height), 255)
    return page, ImageDraw.Draw(page), 0


def _wrap(line: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    words, out, current = line.split(), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if current and font.getlength(candidate) > width:
            out.append(current)
            current = word
        else:
            current = candidate
    return [*out, current] if current else out


def degrade(page: Image.Image, rng: random.Random) -> Image.Image:
    """A print-and-scan of ``page``: skew, grey paper with grain, blur, uneven ink."""
    angle = rng.uniform(0.6, 1.6) * rng.choice((-1, 1))
    skewed = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    blurred = skewed.filter(ImageFilter.GaussianBlur(radius=rng.uniform(0.5, 0.9)))
    grain = Image.effect_noise(blurred.size, rng.uniform(28, 40))
    paper = Image.blend(blurred, grain, alpha=0.18)
    # toner and paper: black prints as dark grey, white as light grey
    return paper.point(lambda v: round(40 + v * (225 - 40) / 255))


def make_twin(source: Path, cache: Path) -> Path:
    """The scanned twin of ``source`` as an image-only PDF in ``cache`` (made once per content)."""
    data = source.read_bytes()
    # the generator is part of the key: a twin made by an older version of this module (or of
    # the extractor that typesets Word files) is never reused
    recipe = Path(__file__).read_bytes() + Path(extraction.__file__).read_bytes()
    key = hashlib.sha256(data + recipe).hexdigest()[:16]
    target = cache / f"{source.stem}.{key}.scan.pdf"
    if target.exists():
        return target
    rng = random.Random(hashlib.sha256(data).hexdigest()[:16])
    scans = []
    for page in render_pages(data):
        buffer = io.BytesIO()
        degrade(page, rng).save(buffer, format="JPEG", quality=rng.randint(55, 70))
        scans.append(Image.open(io.BytesIO(buffer.getvalue())))
    cache.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    scans[0].save(
        partial, format="PDF", save_all=True, append_images=scans[1:], resolution=SCAN_DPI
    )
    partial.replace(target)
    return target
