"""The local resume parser: rules over extracted text, no network and no model.

It is the embedded mode's ResumeParser and the baseline the model-backed parser is compared with.
Being deterministic, it can be re-run over stored text at any time and give the same answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from resumeflow.adapters.local.resume_text import (
    BULLET,
    Section,
    clean_lines,
    find_range,
    find_single_date,
    is_location_part,
    is_region,
    join_wrapped,
    place_indices,
    split_sections,
    strip_place_suffix,
)
from resumeflow.adapters.local.skills import find_skills
from resumeflow.domain.resume import EducationEntry, Link, ParsedResume, WorkEntry

__all__ = ["LocalResumeParser", "parse_resume_text"]

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}")
_PHONE = re.compile(
    r"(?<![\d/.+-])(?:\+ ?\d{1,3}[ -]*)?(?:\(\d{1,5}\)[ -]*)?\d[\d -]{5,16}\d(?![\d]|[ -]\d)"
    r"|(?<![\d.])\d{3}\.\d{3}\.\d{4}(?![\d.])"
)
_NOT_PHONE = re.compile(r"(?:19|20)\d{2} ?-+ ?(?:(?:19|20)\d{2}|\d{2})|\d{4}-\d{2}-\d{2}")
_TAIL = "[^\\s<>\"'()\\[\\]]"
_URL = re.compile(rf"https?://{_TAIL}+|(?<![\w@./-])www\.{_TAIL}+", re.IGNORECASE)
_DOMAIN = re.compile(
    r"(?<![\w@./-])(?:[a-z0-9-]+\.)+(?:com|org|net|io|dev|me|app|co|ai|edu|info|page|site|tech)"
    rf"(?:/{_TAIL}*)?(?![\w@.])"
)
_PROFILE = re.compile(
    r"(?<![\w@./-])(?:https?://)?(?:www\.)?"
    r"(?:linkedin\.com/in/[\w-]+|(?:github|gitlab|twitter|x)\.com/[\w-]+)/?(?![\w/])",
    re.IGNORECASE,
)
_NETWORKS = {
    "linkedin.com": "LinkedIn", "github.com": "GitHub", "gitlab.com": "GitLab",
    "twitter.com": "Twitter", "x.com": "X", "stackoverflow.com": "Stack Overflow",
    "medium.com": "Medium", "orcid.org": "ORCID", "kaggle.com": "Kaggle",
}  # fmt: skip
_CITY_STATE = re.compile(
    r"\b([A-Z][\w.'-]*(?: [A-Z][\w.'-]*){0,3})(?=, ([A-Z][A-Za-z.]*(?: [A-Z][a-z]+)?)(?!\w))"
)


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_NAME_STOP = _wordset(
    "resume résumé cv curriculum vitae page profile summary contact objective experience "
    "education skills references engineer developer manager designer analyst scientist "
    "consultant director specialist intern senior junior lead principal software stack product "
    "professional title position tagline university college institute school street road avenue "
    "inc llc ltd company student graduate candidate accountant coordinator administrator "
    "technician officer assistant architect programmer executive representative support data "
    "machine learning front backend frontend full web mobile cloud devops welcome dear location "
    "address email phone mobile website linkedin github portfolio"
)
_PARTICLES = _wordset("van von de der den da del della di du la le bin")
_TITLE_WORDS = _wordset(
    "engineer developer programmer manager director analyst scientist consultant designer "
    "architect administrator technician specialist coordinator accountant intern assistant "
    "associate officer lead head principal president founder co-founder owner executive "
    "supervisor representative advisor editor writer researcher professor lecturer instructor "
    "teacher tutor nurse volunteer member contributor creator clerk agent auditor bookkeeper "
    "recruiter coach operator strategist vp cto ceo cfo coo sre ninja fellow trainee apprentice "
    "attorney paralegal receptionist secretary producer"
)
_SCHOOL_WORDS = re.compile(
    r"(?i)\b(?:university|college|institute|school|academy|polytechnic|conservatory|"
    r"universit[éaä]t?|universidad|universidade|politecnico)\b"
)
_DEGREE = re.compile(
    r"(?:(?:Bachelor|Master|Associate)(?:'s|\u2019s)?|Doctor(?:ate)?|Ph\.? ?D\.?|M\.?B\.?A\.?"
    r"|BSCS|BSEE|[BM]\.? ?S(?:c)?\.?|[BM]\.? ?A\.?|[BM]\.? ?Tech\.?|[BM]\.? ?Eng?\.?"
    r"|B\.?Com\.?|LL\.?[BM]\.?|J\.?D\.?|Diploma|GED)(?![\w'])"
)
_SKIP_EDU = re.compile(
    r"(?i)^(?:gpa|overall gpa|cgpa|grade|coursework|relevant|courses|(?:\w+'?s? )?thesis|"
    r"honou?rs|minor|major|concentration|specialization|description|awards?)\b"
)
_EDU_SPLIT = re.compile(r"\s*(?:,|\||\u2022|\u00b7| \u2014 | \u2013 | - )\s*")
_SPLIT = re.compile(rf"{_EDU_SPLIT.pattern}|\s+(?:@|at)\s+")  # "Engineer at Initech"
_COMPANY_SUFFIX = _wordset("inc inc. llc ltd ltd. co. corp. gmbh plc s.a.")


class LocalResumeParser:
    """ResumeParser port over ``parse_resume_text``: fast enough to run on the event loop."""

    name = "local-rules@1"

    async def parse(self, text: str) -> ParsedResume:
        return parse_resume_text(text)


def parse_resume_text(text: str) -> ParsedResume:
    """Structured fields found in a resume's text; a field the rules cannot find stays empty."""
    lines = clean_lines(text)
    header, sections = split_sections(lines)
    contact = header[:12] + sections.get(Section.CONTACT, [])
    email = _first(_EMAIL, contact) or _first(_EMAIL, lines)
    return ParsedResume(
        name=_name(header[:10], lines, email),
        email=email,
        phone=_phone(contact) or _phone(lines),
        location=_location(contact),
        links=_links(contact, lines),
        summary=_join(sections.get(Section.SUMMARY, [])),
        skills=_skills(sections.get(Section.SKILLS, []), "\n".join(lines)),
        work=_work(sections.get(Section.EXPERIENCE, [])),
        education=_education(sections.get(Section.EDUCATION, [])),
    )


# --- contact -----------------------------------------------------------------------------------


def _first(pattern: re.Pattern[str], lines: Iterable[str]) -> str | None:
    for line in lines:
        if match := pattern.search(line):
            return match.group(0)
    return None


def _name_like(line: str) -> str | None:
    """The line (up to a separator) when it reads as a person's name, in title case if shouted."""
    parts = re.split(r"\s+[|\u2013\u2014\u2022\u00b7-]\s+|,", line)
    if any(is_location_part(part) for part in parts[1:]):
        return None  # "Silicon Valley, CA"
    words = parts[0].split()
    if not 2 <= len(words) <= 4 or sum(map(len, words)) < 3:
        return None
    for word in words:
        bare = re.sub(r"[.'\u2019-]", "", word)
        if not bare.isalpha() or bare.casefold() in _NAME_STOP:
            return None
        if word[0].islower() and word not in _PARTICLES:
            return None
    name = " ".join(words)
    if name.isupper():
        return re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), name.lower())
    return name


def _name(top: list[str], lines: list[str], email: str | None) -> str | None:
    """The first name-like line at the top, else a line spelling the e-mail's local part
    (two-column layouts can put the name last)."""
    for line in top:
        if name := _name_like(line):
            return name
    tokens = {t for t in re.split(r"[^a-z]+", (email or "").split("@")[0].casefold()) if len(t) > 1}
    for line in lines if tokens else ():
        name = _name_like(line)
        if name and tokens <= set(name.casefold().split()):
            return name
    return None


def _phone(lines: Iterable[str]) -> str | None:
    """The first 7-15 digit number that is not a year range; kept as digits, "+", "-" and spaces."""
    for line in lines:
        for match in _PHONE.finditer(line):
            raw = match.group(0).strip()
            if 7 <= sum(c.isdigit() for c in raw) <= 15 and not _NOT_PHONE.fullmatch(raw):
                phone = re.sub(r"\s*-+\s*", "-", re.sub(r"[^\d+ -]", " ", raw))
                return re.sub(r"\s+", " ", phone).strip()
    return None


def _location(lines: Iterable[str]) -> str | None:
    for raw in lines:
        line = re.sub(r"^\W+", "", raw)
        if is_location_part(line):
            return line  # a line of its own in a contact column: "New York"
        for match in _CITY_STATE.finditer(line):
            city, region = match.groups()
            if is_region(region):
                after = line[match.end() + 2 + len(region) :]
                tail = re.match(r", ([A-Z][\w.]*(?: [A-Z][\w.]*)?)(?!\w)", after)
                country = tail.group(1) if tail and is_region(tail.group(1)) else None
                return ", ".join(filter(None, (city, region, country)))
    return None


def _links(contact: list[str], lines: list[str]) -> tuple[Link, ...]:
    """Any URL or domain near the top; profile links (LinkedIn, GitHub...) anywhere."""
    found: dict[str, Link] = {}
    raws = [
        m.group(0)
        for line in contact
        for m in sorted((*_URL.finditer(line), *_DOMAIN.finditer(line)), key=lambda m: m.start())
    ]
    raws += [m.group(0) for line in lines for m in _PROFILE.finditer(line)]
    for raw in raws:
        url = raw.rstrip(".,;:")
        url = url if re.match(r"(?i)https?://", url) else f"https://{url}"
        key = re.sub(r"(?i)^https?://(?:www\.)?", "", url).rstrip("/").casefold()
        host = key.split("/")[0]
        found.setdefault(key, Link(url=url, network=_NETWORKS.get(host)))
    return tuple(found.values())


# --- sections ----------------------------------------------------------------------------------


def _join(lines: Iterable[str]) -> str | None:
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


_LABEL = re.compile(r"^[A-Za-z][\w &/+-]{0,30}:\s*")
_FILLER = re.compile(
    r"(?i)^(?:and|or|proficien(?:t|cy) (?:in|with)|fluent in|familiar(?:ity)? with|"
    r"experience (?:with|in)|knowledge of)\s+"
)


def _skills(section: list[str], text: str) -> tuple[str, ...]:
    """The Skills section's items (known skills by their canonical name, other short items as
    written), then every known skill mentioned anywhere."""
    rows: list[str] = []
    for line in section:
        if rows and "," in rows[-1] and not BULLET.match(line) and not _LABEL.match(line):
            rows[-1] = f"{rows[-1]} {line}"  # a comma list wrapped onto the next line
        else:
            rows.append(line)
    items: list[str] = []
    for row in rows:
        row = re.sub(r"\([^)]*\)", " ", _LABEL.sub("", BULLET.sub("", row)))
        for chunk in re.split(r"[,;|\u2022\u00b7]|\s+and\s+", row):
            chunk = _FILLER.sub("", _LABEL.sub("", chunk.strip())).rstrip(" .:-").lstrip(" :-")
            known = find_skills(chunk)
            words = chunk.split()
            if known:
                items.extend(known)
            elif chunk[:1].isupper() and len(chunk) <= 40 and len(words) <= 4:
                items += [] if any(map(str.isdigit, words)) else [chunk]  # not "category 4 XXX"
    unique: dict[str, str] = {}
    for item in [*items, *find_skills(text)]:
        unique.setdefault(item.casefold(), item)
    return tuple(unique.values())


def _is_title(part: str) -> bool:
    return any(word.strip("().,").casefold() in _TITLE_WORDS for word in part.split())


def _parts(text: str) -> list[str]:
    """``text`` split at separators, company suffixes rejoined, places ("Seattle, WA") dropped."""
    parts: list[str] = []
    for piece in _SPLIT.split(text):
        piece = piece.strip(" ;:")
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


def _work(section: list[str]) -> tuple[WorkEntry, ...]:
    """One entry per date range; its summary is the text between it and the next entry.

    Whether dates lead entries ("2019 - 2021 Analyst, Initech") or close them (title, bullets,
    then "June 2005 - Aug 2007") is decided once per section, from its first date range.
    """
    lines = join_wrapped(section)
    anchors = [(i, r) for i, line in enumerate(lines) if (r := find_range(line)) is not None]
    if not anchors:
        return ()
    first, first_range = anchors[0]
    leads = not re.search(r"[^\W\d_]", lines[first][: first_range.span[0]])
    date_first = leads and bool(
        _rest(lines[first], first_range.span) or not any(map(_headerish, lines[:first]))
    )
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
        entry.model_copy(
            update={"summary": _join(lines[j] for j in range(start, end) if j not in used)}
        )
        for (start, entry), end in zip(found, starts[1:], strict=True)
    )


def _entry_header(
    lines: list[str], at: int, rest: str, date_first: bool, used: set[int]
) -> tuple[str, str, list[int]]:
    """The title/employer text of the entry dated on line ``at``, a second line that may name
    the employer ("Stripe \u2022 San Francisco, CA" under "Engineer  Jan 2023 - Present"), and
    the lines they took: the date's own line, the line after a leading date, or the nearest
    heading-like line above a closing date (skipping bullets, wrapped text and "City, ST")."""
    after = at + 1 if at + 1 < len(lines) and at + 1 not in used else None
    if rest:
        if not date_first and not _SPLIT.search(rest) and after and _headerish(lines[after]):
            return rest, lines[after], [at, after]
        return rest, "", [at]
    if date_first:
        return (lines[after], "", [at, after]) if after else ("", "", [at])
    taken = [at]
    for j in range(at - 1, -1, -1):
        if j in used:
            break
        if _place_only(lines[j]):
            taken.append(j)
        elif _headerish(lines[j]) and not BULLET.match(lines[j]):
            return lines[j], "", [*taken, j]
    return "", "", taken


def _title_employer(parts: list[str], extra: list[str]) -> tuple[str | None, str | None]:
    """The part naming a job ("Engineer", "Manager"...) is the title, else the first part;
    the employer is the first other part, or the next line's first part."""
    if not parts:
        return None, None
    at = next((i for i, part in enumerate(parts) if _is_title(part)), 0)
    others = [part for i, part in enumerate(parts) if i != at] + extra
    return parts[at], strip_place_suffix(others[0]) if others else None


def _education(section: list[str]) -> tuple[EducationEntry, ...]:
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
    pieces = [p.strip(" .;:") for p in _EDU_SPLIT.split(text)]
    pieces = [p for p in pieces if re.search(r"[^\W\d_]", p)]
    places = place_indices(pieces)
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
            fields["area"] = piece
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
