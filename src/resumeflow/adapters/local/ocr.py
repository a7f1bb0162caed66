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
from functools import cache
from itertools import pairwise
from typing import Any

import pytesseract
from PIL import Image, ImageFilter, ImageOps

from resumeflow.domain.errors import StageError

__all__ = ["OcrOptions", "OcrPage", "deskew_angle", "ocr_page", "prepare"]

_TARGET_WIDTH = 2400  # px for a letter/A4 page: about 290 dpi
_MARGIN_SHARE = 0.26  # a block this narrow, at a page edge, is a margin column
_CJK = re.compile(r"^[\u3000-\u9fff]")
_GAP_SHARE = 0.04  # a gap between words this wide separates two runs of text
_BAND_SHARE = 0.3  # a filled band this wide may hold a heading's text; narrower bars are cleared


@dataclass(frozen=True)
class OcrOptions:
    """How a page is cleaned and read. The defaults are the measured best (ADR 0005)."""

    upscale: bool = True
    deskew: bool = True
    remove_rules: bool = True
    binarize: bool = False
    merge_margins: bool = True
    psm: int = 3
    fallback_language: str | None = "chi_sim+eng"
    """Read a page again in this language when the first reading is unsure (a page in another
    script reads as low-confidence junk), if its Tesseract data is installed."""
    fallback_below: float = 0.75


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
    thick = _wide_runs(thick, round(page.width * _BAND_SHARE / band))
    thick = thick.filter(ImageFilter.MaxFilter(3)).resize(page.size, Image.Resampling.NEAREST)
    mask.paste(0, mask=thick)
    if mask.getbbox() is None:
        return page
    cleaned = page.copy()
    cleaned.paste(_paper(page), mask=mask.filter(ImageFilter.MaxFilter(5)))
    return cleaned


def _wide_runs(image: Image.Image, length: int) -> Image.Image:
    """Only the horizontal runs of ``image`` (a small 0/255 mask) at least ``length`` long: a
    wide band can hold a heading's text; a short bar beside a heading (moderncv) cannot."""
    width, height = image.size
    pixels = image.tobytes()
    kept = bytearray(len(pixels))
    for y in range(height):
        row = pixels[y * width : (y + 1) * width]
        x = 0
        while x < width:
            if not row[x]:
                x += 1
                continue
            end = x
            while end < width and row[end]:
                end += 1
            if end - x >= length:
                kept[y * width + x : y * width + end] = b"\xff" * (end - x)
            x = end
    return Image.frombytes("L", image.size, bytes(kept))


def ocr_page(image: Image.Image, language: str, options: OcrOptions | None = None) -> OcrPage:
    """The text of one page image in reading order, and Tesseract's mean confidence."""
    options = options or OcrOptions()
    page = prepare(ImageOps.exif_transpose(image), options)
    first = _read(page, language, options)
    fallback = options.fallback_language
    if first.confidence >= options.fallback_below or not fallback or fallback == language:
        return first
    if not set(fallback.split("+")) <= _installed_languages():
        return first
    second = _read(page, fallback, options)
    return second if second.confidence > first.confidence else first


@cache
def _installed_languages() -> frozenset[str]:
    try:
        return frozenset(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractError, OSError):
        return frozenset()


def _read(page: Image.Image, language: str, options: OcrOptions) -> OcrPage:
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
    lines = _lines(data, page.width)
    if options.merge_margins:
        lines = _merge_margins(lines, page.width)
    confidences = [float(c) for c, w in zip(data["conf"], data["text"], strict=True) if w.strip()]
    confidences = [c for c in confidences if c >= 0]
    mean = sum(confidences) / len(confidences) / 100 if confidences else 0.0
    return OcrPage(text=_join(lines), confidence=round(mean, 3))


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


def _lines(data: dict[str, list[Any]], width: int) -> list[_Line]:
    """Tesseract's words grouped into its lines, in its reading order. A wide gap inside a
    line (a right-aligned place or date) becomes " | ", as a text layer's separate runs would
    read: "Apple, Software Engineer | Cupertino, CA"."""
    gap = width * _GAP_SHARE
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
            space = left - line.right
            if space > gap:
                line.words.append("|")
            if _CJK.match(str(word)) and _CJK.search(line.words[-1][-1:]) and space < bottom - top:
                line.words[-1] += str(word)  # Tesseract spaces CJK glyphs apart; a name's gap stays
            else:
                line.words.append(str(word))
            line.left, line.right = min(line.left, left), max(line.right, right)
            line.top, line.bottom = min(line.top, top), max(line.bottom, bottom)
    return list(lines.values())


_DATE_ONLY = re.compile(
    r"(?i)^[\W\d]*(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.?\s*)?"
    r"(?:19|20)\d\d(?:\s*[-\u2013\u2014]+\s*(?:present|current|now|(?:\w+\.?\s*)?(?:19|20)\d\d))?\W*$"
)


def _merge_margins(lines: list[_Line], width: int) -> list[_Line]:
    """Put each line of a narrow left-margin block at the start of the line beside it, and a
    lone date printed right of a line (its own block) at that line's end."""
    blocks: dict[int, list[_Line]] = {}
    for line in lines:
        blocks.setdefault(line.block, []).append(line)
    narrow = {
        block
        for block, members in blocks.items()
        if max(m.right for m in members) - min(m.left for m in members) < width * _MARGIN_SHARE
    }
    left_margin = {b for b in narrow if max(m.right for m in blocks[b]) < width * _MARGIN_SHARE}
    body = [line for line in lines if line.block not in narrow]
    if not narrow or not body:
        return lines
    kept: list[_Line] = []
    for line in lines:
        if line.block not in narrow:
            kept.append(line)
            continue
        aligned = [b for b in body if b.top <= line.middle <= b.bottom]
        before = [b for b in aligned if b.left > line.right]
        after = [b for b in aligned if b.right < line.left]
        if line.block in left_margin and before:
            target = min(before, key=lambda b: b.left)
            target.words[:0] = line.words
            target.left = line.left
        elif _DATE_ONLY.match(" ".join(line.words)) and after:
            target = max(after, key=lambda b: b.right)
            target.words += ["|", *line.words]
            target.right = line.right
        else:
            kept.append(line)  # a margin line alone: keep it where Tesseract put it
    return kept


def _join(lines: list[_Line]) -> str:
    """Lines as text, a blank line between Tesseract's blocks."""
    out: list[str] = []
    previous: int | None = None
    for line in lines:
        if previous is not None and line.block != previous:
            out.append("")
        out.append(" ".join(line.words))
        previous = line.block
    return "\n".join(out)
