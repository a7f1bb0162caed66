"""The local resume parser: rules over extracted text, no network and no model.

It is the embedded mode's ResumeParser and the baseline the model-backed parser is compared with.
Being deterministic, it can be re-run over stored text at any time and give the same answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from resumeflow.adapters.local.resume_entries import (
    join_paragraph,
    parse_education,
    parse_work,
    wordset,
)
from resumeflow.adapters.local.resume_text import (
    BULLET,
    Section,
    clean_lines,
    is_location_part,
    is_region,
    split_sections,
)
from resumeflow.adapters.local.skills import find_skills
from resumeflow.domain.resume import Link, ParsedResume

__all__ = ["LocalResumeParser", "parse_resume_text"]

# OCR may read "alfred.pennyworth@" as "alfred. pennyworth@"
_SPACED_EMAIL = re.compile(r"(?<=\w)\. ([A-Za-z0-9._%+-]+@)")
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


_NAME_STOP = wordset(
    "resume résumé cv curriculum vitae page profile summary contact objective experience "
    "education skills references engineer developer manager designer analyst scientist "
    "consultant director specialist intern senior junior lead principal software stack product "
    "professional title position tagline university college institute school street road avenue "
    "inc llc ltd company student graduate candidate accountant coordinator administrator "
    "technician officer assistant architect programmer executive representative support data "
    "machine learning front backend frontend full web mobile cloud devops welcome dear location "
    "address email phone mobile website linkedin github portfolio"
)
_PARTICLES = wordset("van von de der den da del della di du la le bin")


class LocalResumeParser:
    """ResumeParser port over ``parse_resume_text``: fast enough to run on the event loop."""

    name = "local-rules@1"

    async def parse(self, text: str) -> ParsedResume:
        return parse_resume_text(text)


def parse_resume_text(text: str) -> ParsedResume:
    """Structured fields found in a resume's text; a field the rules cannot find stays empty."""
    lines = [_SPACED_EMAIL.sub(r".\1", line) for line in _without_cover_letter(clean_lines(text))]
    header, sections = split_sections(lines)
    contact = header[:12] + sections.get(Section.CONTACT, [])
    email = _first(_EMAIL, contact) or _first(_EMAIL, lines)
    return ParsedResume(
        name=_name(header[:10], lines, email),
        email=email,
        phone=_phone(contact) or _phone(lines),
        location=_location(contact) or _location_before_email(contact, email),
        links=_links(contact, lines),
        summary=join_paragraph(sections.get(Section.SUMMARY, [])),
        skills=_skills(sections.get(Section.SKILLS, []), "\n".join(lines)),
        # a student's involvement and volunteering are the work history when there is no other
        work=parse_work(sections.get(Section.EXPERIENCE) or sections.get(Section.INVOLVEMENT, [])),
        education=parse_education(sections.get(Section.EDUCATION, [])),
    )


_SALUTATION = re.compile(r"(?i)^(?:dear\b.{0,60}|to whom it may concern\W*)$")
_CLOSING = re.compile(
    r"(?i)^(?:sincerely|yours (?:faithfully|sincerely|truly)|(?:best|kind|warm) regards)\W*$"
)


def _without_cover_letter(lines: list[str]) -> list[str]:
    """The resume without a cover letter printed after it (moderncv's last page).

    A letter is a salutation with a closing after it; it starts at its own letterhead, the
    name line repeated above the salutation, or else at the salutation itself.
    """
    for at, line in enumerate(lines):
        if at < 8 or not _SALUTATION.match(line):
            continue
        if not any(_CLOSING.match(later) for later in lines[at + 1 :]):
            continue
        first = lines[0]
        letterhead = [i for i in range(max(0, at - 25), at) if lines[i] == first]
        return lines[: letterhead[-1] if letterhead else at]
    return lines


# --- contact -----------------------------------------------------------------------------------


def _first(pattern: re.Pattern[str], lines: Iterable[str]) -> str | None:
    for line in lines:
        if match := pattern.search(line):
            return match.group(0)
    return None


def _name_like(line: str) -> str | None:
    """The line (up to a separator) when it reads as a person's name, in title case if shouted."""
    parts = re.split(r"\s+[|\u2013\u2014\u2022\u00b7-]\s+|,", _before_contact(line))
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


def _before_contact(line: str) -> str:
    """A header line up to where contact details start: a scan reads the name and the phone
    number beside it as one line ("Alfred Pennyworth 0 (123) 456-7890")."""
    match = re.search(r"\s(?:\S\s)?(?=[(+\d]|\S+@)", line)
    return line[: match.start()] if match and match.start() > 0 else line


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


def _location_before_email(lines: Iterable[str], email: str | None) -> str | None:
    """A contact line's leading words before the e-mail ("Your Location  youremail@..."),
    when they read as a place: a few capitalized words, no digits, no separators inside."""
    for line in lines:
        if not email or email not in line:
            continue
        words = line[: line.index(email)].split()
        while words and (len(words[0]) <= 2 or not words[0][0].isalpha()):
            words = words[1:]  # icons read as letters: "9 Your Location &"
        while words and not words[-1][-1].isalnum():
            words = words[:-1]
        if 1 <= len(words) <= 4 and all(w[0].isupper() and w.isalpha() for w in words):
            return " ".join(words)
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


_LABEL = re.compile(r"^[A-Za-z][\w &/+-]{0,30}:\s*")
_FILLER = re.compile(
    r"(?i)^(?:and|or|proficien(?:t|cy) (?:in|with)|fluent in|familiar(?:ity)? with|"
    r"experience (?:with|in)|knowledge of)\s+"
)


def _tags(chunk: str) -> list[str]:
    """Tags set side by side with no separator, told apart by their case: "Hard-working Eye
    for detail" is two tags, "Motivator & Leader" and "Statistical Analysis" are one each."""
    pieces: list[list[str]] = []
    for word in chunk.split():
        current = pieces[-1] if pieces else []
        lowered = any(re.search(r"(?:^|-)[a-z]", part) for part in current)
        if current and word[:1].isupper() and lowered and current[-1] not in {"&", "and"}:
            pieces.append([word])
        elif current:
            current.append(word)
        else:
            pieces.append([word])
    return [" ".join(piece) for piece in pieces]


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
            if known:
                items.extend(known)
                continue
            for tag in _tags(chunk):
                words = tag.split()
                if tag[:1].isupper() and len(tag) <= 40 and len(words) <= 4:
                    items += [] if any(map(str.isdigit, words)) else [tag]  # not "category 4 XXX"
    unique: dict[str, str] = {}
    for item in [*items, *find_skills(text)]:
        unique.setdefault(item.casefold(), item)
    return tuple(unique.values())
