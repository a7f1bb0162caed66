"""Work and education entries of a resume: the rules that split a section into entries.

Kept apart from ``parser`` (contact details, name, skills) because entry splitting is the
largest and most layout-sensitive part of the local parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from resumeflow.adapters.local.resume_text import (
    BULLET,
    DateRange,
    find_range,
    find_single_date,
    find_trailing_dates,
    is_location_part,
    is_region,
    join_wrapped,
    place_indices,
    strip_place_suffix,
)
from resumeflow.domain.resume import EducationEntry, WorkEntry

__all__ = ["join_paragraph", "parse_education", "parse_work", "wordset"]


def join_paragraph(lines: Iterable[str]) -> str | None:
    """Lines as one paragraph, bullets dropped and words hyphenated across a wrap rejoined."""
    text = ""
    for raw in lines:
        line = BULLET.sub("", raw).strip()
        if not re.search(r"\w", line):
            continue
        if re.search(r"\w-$", text) and line[0].islower():
            text = text[:-1] + line
        else:
            text = f"{text} {line}" if text else line
    return text or None


def wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_TITLE_WORDS = wordset(
    "engineer developer programmer manager director analyst scientist consultant designer "
    "architect administrator technician specialist coordinator accountant intern assistant "
    "associate officer lead head principal president founder co-founder owner executive "
    "supervisor representative advisor editor writer researcher professor lecturer instructor "
    "teacher tutor nurse volunteer member contributor creator clerk agent auditor bookkeeper "
    "recruiter coach operator strategist vp cto ceo cfo coo sre ninja fellow trainee apprentice "
    "attorney paralegal receptionist secretary producer title"  # "title": templates' "Job title"
)
_SCHOOL_WORDS = re.compile(
    r"(?i)\b(?:university|college|institute|institution|school|academy|polytechnic|conservatory|"
    r"universit[éaä]t?|universidad|universidade|politecnico)\b"
    r"|\u5927\u5b66|\u5b66\u9662|\u9662\u6821|\u5b66\u6821"  # CJK: university, college, school
)
_DEGREE = re.compile(
    r"(?:(?:Bachelor|Master|Associate)(?:'s|\u2019s)?|Doctor(?:ate)?|Ph\.? ?D\.?|M\.?B\.?A\.?"
    r"|BSCS|BSEE|[BM]\.? ?S(?:c)?\.?|[BM]\.? ?A\.?|[BM]\.? ?Tech\.?|[BM]\.? ?Eng?\.?"
    r"|B\.?Com\.?|LL\.?[BM]\.?|J\.?D\.?|Diploma|GED)(?![\w'])"
    r"|\u5b66\u4f4d|\u5b66\u58eb|\u7855\u58eb|\u535a\u58eb"  # CJK: degree, bachelor, master, doctor
)
_SKIP_EDU = re.compile(
    r"(?i)^(?:gpa|overall gpa|cgpa|grade|coursework|relevant|courses|(?:\w+'?s? )?thesis|"
    r"honou?rs|minor|major|concentration|specialization|description|awards?)\b"
)
_EDU_SPLIT = re.compile(r"\s*(?:,|\||\u2022|\u00b7| \u2014 | \u2013 | - )\s*")
_SPLIT = re.compile(rf"{_EDU_SPLIT.pattern}|\s+(?:@|at)\s+")  # "Engineer at Initech"
_COMPANY_SUFFIX = wordset("inc inc. llc ltd ltd. co. corp. gmbh plc s.a.")


def _is_title(part: str) -> bool:
    return any(word.strip("().,").casefold() in _TITLE_WORDS for word in part.split())


def _parts(text: str) -> list[str]:
    """``text`` split at separators, company suffixes rejoined, places ("Seattle, WA") dropped."""
    parts: list[str] = []
    for piece in _SPLIT.split(text):
        piece = piece.strip(" ;:\u00a2\u00ab\u00bb")  # and bullets a scan glued to a name
        if piece and parts and piece.casefold() in _COMPANY_SUFFIX:
            parts[-1] = f"{parts[-1]}, {piece}"
        elif re.search(r"[^\W\d_]", piece):
            parts.append(piece)
    places = place_indices(parts)
    return [part for i, part in enumerate(parts) if i not in places or _is_title(part)]


def _rest(line: str, span: tuple[int, int]) -> str:
    """``line`` without the date at ``span``, or "" when no words are left."""
    rest = f"{line[: span[0]]} {line[span[1] :]}".strip(" ,;:|-\u2013\u2014\u2022")
    return rest if re.search(r"[^\W\d_]{2}", rest) else ""


def _headerish(line: str) -> bool:
    """Could head an entry: short, starts with a capital, is no bullet, sentence or date range."""
    return (
        re.match(r"[^\W\d_]", line) is not None
        and not line[0].islower()
        and len(line) <= 100
        and not (line.endswith(".") and not re.search(r"\b(?:Inc|Ltd|Co|Corp)\.$", line))
        and find_range(line) is None
    )


def _place_only(line: str) -> bool:
    parts = [part.strip() for part in line.split(",")]
    short = all(len(part.split()) <= 3 for part in parts)
    return is_location_part(line) or (2 <= len(parts) <= 3 and short and is_region(parts[-1]))


def parse_work(section: list[str]) -> tuple[WorkEntry, ...]:
    """One entry per date range; its summary is the text between it and the next entry.

    Whether dates lead entries ("2019 - 2021 Analyst, Initech") or close them (title, bullets,
    then "June 2005 - Aug 2007") is decided once per section, from its first date range.
    """
    lines = _dates_off_bullets(join_wrapped(section))
    anchors = [(i, r) for i, line in enumerate(lines) if (r := _anchor(lines, i)) is not None]
    if not anchors:
        return ()
    first, first_range = anchors[0]
    leads = not re.search(r"[^\W\d_]", lines[first][: first_range.span[0]])
    first_rest = _rest(lines[first], first_range.span)
    date_first = leads and bool(first_rest or not any(map(_headerish, lines[:first])))
    if date_first and _only_place(first_rest) and _header_above(lines, first, set()):
        date_first = False  # "Job Title / Company / 2019 - Now  Location": dates close the header
    used = {i for i, _ in anchors}
    found: list[tuple[int, WorkEntry]] = []
    for i, dates in anchors:
        header, extra, taken = _entry_header(
            lines, i, _rest(lines[i], dates.span), date_first, used
        )
        used.update(taken)
        title, employer = _title_employer(_parts(header), _parts(extra))
        if title or employer:
            entry = WorkEntry(
                title=title,
                employer=employer,
                start=dates.start,
                end=dates.end,
                current=dates.current,
            )
            found.append((min(taken), entry))
    starts = [start for start, _ in found] + [len(lines)]
    return tuple(
        entry.model_copy(update={"summary": _summary(entry, lines, range(start, end), used)})
        for (start, entry), end in zip(found, starts[1:], strict=True)
    )


def _dates_off_bullets(lines: list[str]) -> list[str]:
    """A date range printed beside an entry's first bullet ("\u2022 Reduced ... | June 2005 -
    Aug 2007" in a scan) goes on a line of its own, as the text layer has it."""
    out: list[str] = []
    for line in lines:
        found = find_range(line) if BULLET.match(line) else None
        if found is not None and not line[found.span[1] :].strip(" |") and found.span[0] > 0:
            out += [line[: found.span[0]].rstrip(" |"), line[found.span[0] :]]
        else:
            out.append(line)
    return out


def _anchor(lines: list[str], at: int) -> DateRange | None:
    """The dates of an entry on line ``at``: a range, or dates closing a heading-like line
    whose next line names a role ("YMCA, Pomona, CA Summer 2013, 2014" over "Swim Coach")."""
    line = lines[at]
    found = find_range(line)
    if found is not None or at + 1 >= len(lines):
        return found
    dates = find_trailing_dates(line)
    if dates is None or not _headerish(_rest(line, dates.span) or "-"):
        return None
    following = lines[at + 1]
    return dates if _headerish(following) and _is_title(following) else None


def _summary(entry: WorkEntry, lines: list[str], span: range, used: set[int]) -> str | None:
    """The entry's own lines, without a line that only repeats its title."""
    title = re.sub(r"\W+", " ", entry.title or "").strip().casefold()
    kept = [
        lines[j]
        for j in span
        if j not in used and re.sub(r"\W+", " ", lines[j]).strip().casefold() != title
    ]
    return join_paragraph(kept)


def _entry_header(
    lines: list[str], at: int, rest: str, date_first: bool, used: set[int]
) -> tuple[str, str, list[int]]:
    """The title/employer text of the entry dated on line ``at``, a second line that may name
    the employer ("Stripe \u2022 San Francisco, CA" under "Engineer  Jan 2023 - Present"), and
    the lines they took: the date's own line, the line after a leading date, or the nearest
    heading-like line above a closing date (skipping bullets, wrapped text and "City, ST")."""
    after = at + 1 if at + 1 < len(lines) and at + 1 not in used else None
    if rest and not date_first and after and _role_line(lines[after], rest):
        return lines[after], rest, [at, after]  # "Enactus, University of X  2013 - Now" / "Member"
    if rest and not date_first and _only_place(rest):
        header = _header_above(lines, at, used)
        if header is not None:
            return header
    if rest:
        if not date_first and not _SPLIT.search(rest) and after and _headerish(lines[after]):
            return rest, lines[after], [at, after]
        above = at - 1
        if not date_first and not _SPLIT.search(rest) and _employer_line(lines, above, used):
            return rest, lines[above], [at, above]  # "Employer  City" over "Job title  2019-2021"
        return rest, "", [at]
    if date_first:
        return (lines[after], "", [at, after]) if after else ("", "", [at])
    return _header_above(lines, at, used) or ("", "", [at])


def _only_place(rest: str) -> bool:
    """A date line's remainder that names no role: a place, or a template's "Location"."""
    return bool(rest) and len(rest.split()) <= 3 and not _is_title(rest) and not _SPLIT.search(rest)


def _header_above(lines: list[str], at: int, used: set[int]) -> tuple[str, str, list[int]] | None:
    """The heading-like line nearest above ``at`` (skipping bullets, wrapped text and places);
    with the line above it when that one names the role and the nearest does not
    ("Job Title 1" over "Company 1")."""
    taken = [at]
    for j in range(at - 1, -1, -1):
        if j in used:
            return None
        if _place_only(lines[j]):
            taken.append(j)
        elif _headerish(lines[j]) and not BULLET.match(lines[j]):
            k = j - 1
            pair = (
                k >= 0
                and k not in used
                and not _is_title(lines[j])
                and _headerish(lines[k])
                and not BULLET.match(lines[k])
                and len(lines[k].split()) <= 6
            )
            return (lines[k], lines[j], [*taken, j, k]) if pair else (lines[j], "", [*taken, j])
    return None


def _employer_line(lines: list[str], at: int, used: set[int]) -> bool:
    return (
        at >= 0
        and at not in used
        and _headerish(lines[at])
        and not BULLET.match(lines[at])
        and not _is_title(lines[at])
        and len(lines[at].split()) <= 6
    )


def _role_line(line: str, rest: str) -> bool:
    """``line`` names the role of an entry whose dated line names no role, only the place."""
    return (
        _headerish(line)
        and len(line.split()) <= 6
        and _is_title(line)
        and not any(_is_title(part) for part in _parts(rest))
    )


def _title_employer(parts: list[str], extra: list[str]) -> tuple[str | None, str | None]:
    """The part naming a job ("Engineer", "Manager"...) is the title, else the first part;
    the employer is the first other part, or the next line's first part."""
    if not parts:
        return None, None
    at = next((i for i, part in enumerate(parts) if _is_title(part)), 0)
    others = [part for i, part in enumerate(parts) if i != at] + extra
    return parts[at], strip_place_suffix(others[0]) if others else None


def parse_education(section: list[str]) -> tuple[EducationEntry, ...]:
    """Entries assembled line by line; a second institution, degree or date range starts the
    next entry, since layouts put them in any order and on one or several lines."""
    lines: list[str] = []
    for line in join_wrapped(section):
        if lines and _place_only(line) and "," in line and _edu_fields(lines[-1]):
            lines[-1] = f"{lines[-1]} {line}"  # "Indian Institute of Technology" / "Delhi, India"
        else:
            lines.append(line)
    entries: list[dict[str, str | None]] = []
    current: dict[str, str | None] = {}
    for line in lines:
        if BULLET.match(line) or _SKIP_EDU.match(line) or len(line.split()) > 16:
            continue
        fields = _edu_fields(line)
        dated = {"start", "end"}
        clash = any(current.get(key) for key in fields.keys() - dated) or (
            fields.keys() & dated and current.keys() & dated
        )
        if clash:
            entries.append(current)
            current = {}
        current.update(fields)
    entries.append(current)
    return tuple(
        EducationEntry(
            institution=entry.get("institution"),
            area=entry.get("area"),
            study_type=entry.get("study_type"),
            start=entry.get("start"),
            end=entry.get("end"),
        )
        for entry in entries
        if entry.get("institution") or entry.get("study_type")
    )


def _edu_fields(line: str) -> dict[str, str | None]:
    """Institution, degree, field of study and dates found on one line."""
    fields: dict[str, str | None] = {}
    dates = find_range(line) or find_single_date(line)
    text = line
    if dates is not None:
        fields["end"] = dates.end
        if dates.start:
            fields["start"] = dates.start
        text = f"{line[: dates.span[0]]}, {line[dates.span[1] :]}"
    text = re.sub(r"(?i)\(?expected\)?(?: graduation)?:?|graduat(?:ed|ion)(?: date)?:?", ",", text)
    pieces = [p.strip(" .;:\u00a2\u00ab\u00bb") for p in _EDU_SPLIT.split(text)]
    pieces = [p for p in pieces if re.search(r"[^\W\d_]", p)]
    places = place_indices(pieces)
    school = next(
        (p for i, p in enumerate(pieces) if i not in places and _SCHOOL_WORDS.search(p)), None
    )
    if school is not None and not _DEGREE.match(school):
        fields["institution"] = strip_place_suffix(school)
    degree_at = -1
    for i, piece in enumerate(pieces):
        if i in places or _SKIP_EDU.match(piece):
            continue
        degree = _DEGREE.match(piece)
        if degree and "study_type" not in fields:
            degree_at = i
            fields.update(_degree(degree.group(0), piece[degree.end() :].strip()))
        elif _SCHOOL_WORDS.search(piece) and "institution" not in fields:
            fields["institution"] = strip_place_suffix(piece)
        elif i == degree_at + 1 and degree_at >= 0 and "area" not in fields:
            fields["area"] = piece if piece != school else fields.get("area")
        elif "institution" not in fields and (dates or degree_at >= 0):
            fields["institution"] = piece
    return fields


def _degree(degree: str, rest: str) -> dict[str, str | None]:
    """Study type and area from a degree and the words after it: "Master" + "of Science in
    Physics" -> "Master of Science", "Physics"; "BS" + "University of X" -> an institution."""
    head, sep, tail = ("", " in ", rest[3:]) if rest.startswith("in ") else rest.partition(" in ")
    if sep:
        return {"study_type": f"{degree} {head}".strip(), "area": tail.strip() or None}
    if rest.startswith("of ") or not rest:
        return {"study_type": f"{degree} {rest}".strip()}
    key = "institution" if _SCHOOL_WORDS.search(rest) else "area"
    return {"study_type": degree, key: rest}
