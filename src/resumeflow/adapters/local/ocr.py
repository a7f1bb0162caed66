"""OCR of one page image with a local Tesseract: clean the scan, then read it in layout order.

What each step is for (docs/adr/0005-ocr-and-layout.md has the measurements):
- upscale: Tesseract reads glyphs about 20-30 px high best; a screenshot-sized page is enlarged.
- deskew: a scan tilted by a degree or two breaks Tesseract's lines; the angle is the one whose
  horizontal projection profile is sharpest (text rows separated by clean gaps).
- rules: section rules and coloured bars beside headings come out as junk words glued to the
  heading; long horizontal runs of ink are painted white before reading.
- layout: Tesseract's automatic segmentation finds columns; a narrow margin block (the date
  column of moderncv) is put back on the lines it stands beside, so "2019 - 2021" stays with
  the entry it dates.
Only Pillow is used (no numpy, no OpenCV): each step works on downscaled copies in C.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import pytesseract
from PIL import Image, ImageFilter, ImageOps

from resumeflow.domain.errors import StageError

__all__ = ["OcrOptions", "OcrPage", "deskew_angle", "ocr_page", "prepare"]

_TARGET_WIDTH = 2400  # px for a letter/A4 page: about 290 dpi
_MARGIN_SHARE = 0.26  # a block this narrow, at a page edge, is a margin column


@dataclass(frozen=True)
class OcrOptions:
    """How a page is cleaned and read. The defaults are the measured best (ADR 0005)."""

    upscale: bool = True
    deskew: bool = True
    remove_rules: bool = True
    binarize: bool = False
    merge_margins: bool = True
    psm: int = 3


@dataclass(frozen=True)
class OcrPage:
    text: str
    confidence: float
    """Mean word confidence in 0..1, as Tesseract reports it."""


def prepare(image: Image.Image, options: OcrOptions) -> Image.Image:
    """A greyscale page, upright and cleaned as ``options`` ask."""
    page = image.convert("L")
    if options.upscale and page.width < _TARGET_WIDTH * 0.75:
        scale = _TARGET_WIDTH / page.width
        size = (round(page.width * scale), round(page.height * scale))
        page = page.resize(size, Image.Resampling.LANCZOS)
    if options.deskew:
        angle = deskew_angle(page)
        if abs(angle) >= 0.1:
            page = page.rotate(
                angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=_paper(page)
            )
    if options.remove_rules:
        page = _remove_rules(page)
    if options.binarize:
        threshold = _otsu(page)
        page = page.point(lambda v: 255 if v > threshold else 0)
    return page


def _paper(page: Image.Image) -> int:
    """The page's background grey: the most common of the light levels."""
    histogram = page.histogram()
    return max(range(128, 256), key=lambda level: histogram[level])


def _otsu(page: Image.Image) -> int:
    """Otsu's threshold from the histogram: the level that best splits ink from paper."""
    histogram = page.histogram()
    total = sum(histogram)
    weighted = sum(level * count for level, count in enumerate(histogram))
    below = below_weighted = 0.0
    best, best_level = -1.0, 127
    for level, count in enumerate(histogram):
        below += count
        if below == 0 or below == total:
            continue
        below_weighted += level * count
        mean_below = below_weighted / below
        mean_above = (weighted - below_weighted) / (total - below)
        between = below * (total - below) * (mean_below - mean_above) ** 2
        if between > best:
            best, best_level = between, level
    return best_level


def _ink(page: Image.Image, width: int) -> Image.Image:
    """A small inverted, thresholded copy: ink is bright, paper is black."""
    small = page.resize((width, max(1, round(page.height * width / page.width))))
    threshold = _otsu(small)
    return small.point(lambda v: 255 if v <= threshold else 0)


def deskew_angle(page: Image.Image, limit: float = 4.0, step: float = 0.2) -> float:
    """Degrees to rotate ``page`` counter-clockwise so its text rows run level."""
    ink = _ink(page, 800)

    def sharpness(angle: float) -> float:
        rotated = ink.rotate(angle, resample=Image.Resampling.BILINEAR, expand=False)
        rows = list(rotated.resize((1, rotated.height), Image.Resampling.BOX).tobytes())
        return float(sum((b - a) ** 2 for a, b in pairwise(rows)))

    candidates = [round(-limit + i * step, 2) for i in range(round(2 * limit / step) + 1)]
    coarse = max(candidates, key=sharpness)
    fine = [round(coarse + i * step / 4, 3) for i in range(-3, 4)]
    return max(fine, key=sharpness)


def _remove_rules(page: Image.Image) -> Image.Image:
    """Paint white every horizontal run of solid ink longer than a few letters (rules, bars).

    A cell of the squeezed copy averages ``run`` pixels of a row, so it is full ink only on a
    solid stroke at least that long; four grids offset by a quarter cell cover a rule's ends.
    """
    run = max(64, page.width // 12)  # longer than any stroke of a letter, even a heading
    threshold = _otsu(page)
    ink = page.point(lambda v: 255 if v <= threshold else 0)
    mask = Image.new("L", page.size, 0)
    for shift in range(0, run, run // 4):
        shifted = ink.crop((shift, 0, page.width, page.height))
        cells = max(1, shifted.width // run)
        squeezed = shifted.crop((0, 0, cells * run, page.height)).resize(
            (cells, page.height), Image.Resampling.BOX
        )
        solid = squeezed.point(lambda v: 255 if v >= 248 else 0)
        if solid.getbbox() is None:
            continue
        wide = solid.resize((cells * run, page.height), Image.Resampling.NEAREST)
        mask.paste(255, (shift, 0), mask=wide)
    if mask.getbbox() is None:
        return page
    # a filled band (a heading's background) is no rule: its text would go with it
    band = max(6, page.width // 200)
    small = (max(1, page.width // band), max(1, page.height // band))
    thick = mask.resize(small, Image.Resampling.BOX).point(lambda v: 255 * (v >= 250))
    thick = thick.filter(ImageFilter.MaxFilter(3)).resize(page.size, Image.Resampling.NEAREST)
    mask.paste(0, mask=thick)
    if mask.getbbox() is None:
        return page
    cleaned = page.copy()
    cleaned.paste(_paper(page), mask=mask.filter(ImageFilter.MaxFilter(5)))
    return cleaned


def ocr_page(image: Image.Image, language: str, options: OcrOptions | None = None) -> OcrPage:
    """The text of one page image in reading order, and Tesseract's mean confidence."""
    options = options or OcrOptions()
    page = prepare(ImageOps.exif_transpose(image), options)
    try:
        data: dict[str, list[Any]] = pytesseract.image_to_data(
            page,
            lang=language,
            config=f"--psm {options.psm}",
            output_type=pytesseract.Output.DICT,
        )
    except pytesseract.TesseractNotFoundError as exc:
        raise StageError(
            "ocr_unavailable",
            "tesseract is not installed or not on PATH; install it: apt-get install tesseract-ocr",
            retryable=False,
        ) from exc
    except pytesseract.TesseractError as exc:
        if "Failed loading language" in str(exc.message):
            packages = " ".join(
                f"tesseract-ocr-{code.replace('_', '-')}" for code in language.split("+")
            )
            detail = f"no tesseract data for {language!r}; install it: apt-get install {packages}"
            raise StageError("ocr_unavailable", detail, retryable=False) from exc
        raise StageError("unreadable", f"tesseract failed: {exc.message}", retryable=False) from exc
    lines = _lines(data)
    if options.merge_margins:
        lines = _merge_margins(lines, page.width)
    confidences = [float(c) for c, w in zip(data["conf"], data["text"], strict=True) if w.strip()]
    confidences = [c for c in confidences if c >= 0]
    mean = sum(confidences) / len(confidences) / 100 if confidences else 0.0
    return OcrPage(text=_join(lines, language), confidence=round(mean, 3))


@dataclass
class _Line:
    block: int
    words: list[str]
    left: int
    right: int
    top: int
    bottom: int

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


def _lines(data: dict[str, list[Any]]) -> list[_Line]:
    """Tesseract's words grouped into its lines, in its reading order."""
    lines: dict[tuple[int, int, int], _Line] = {}
    for i, word in enumerate(data["text"]):
        if not str(word).strip():
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        left, top = data["left"][i], data["top"][i]
        right, bottom = left + data["width"][i], top + data["height"][i]
        line = lines.get(key)
        if line is None:
            lines[key] = _Line(key[0], [str(word)], left, right, top, bottom)
        else:
            line.words.append(str(word))
            line.left, line.right = min(line.left, left), max(line.right, right)
            line.top, line.bottom = min(line.top, top), max(line.bottom, bottom)
    return list(lines.values())


def _merge_margins(lines: list[_Line], width: int) -> list[_Line]:
    """Put each line of a narrow left-margin block at the start of the line beside it."""
    blocks: dict[int, list[_Line]] = {}
    for line in lines:
        blocks.setdefault(line.block, []).append(line)
    margin_blocks = {
        block
        for block, members in blocks.items()
        if max(m.right for m in members) < width * _MARGIN_SHARE
    }
    body = [line for line in lines if line.block not in margin_blocks]
    if not margin_blocks or not body:
        return lines
    kept: list[_Line] = []
    for line in lines:
        if line.block not in margin_blocks:
            kept.append(line)
            continue
        beside = [b for b in body if b.left > line.right and b.top <= line.middle <= b.bottom]
        if beside:
            target = min(beside, key=lambda b: b.left)
            target.words[:0] = line.words
            target.left = line.left
        else:
            kept.append(line)  # a margin line alone: keep it where Tesseract put it
    return kept


def _join(lines: list[_Line], language: str) -> str:
    """Lines as text, a blank line between Tesseract's blocks."""
    out: list[str] = []
    previous: int | None = None
    for line in lines:
        if previous is not None and line.block != previous:
            out.append("")
        out.append(" ".join(line.words))
        previous = line.block
    text = "\n".join(out)
    if "chi" in language or "jpn" in language:  # Tesseract spaces every CJK glyph apart
        text = re.sub(r"(?<=[\u3000-\u9fff]) (?=[\u3000-\u9fff])", "", text)
    return text
