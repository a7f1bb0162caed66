"""Text primitives for the rule-based resume parser: clean lines, section headings, dates, places.

Extracted resume text is noisy in repeatable ways: PDF text layers use tabs, NBSP, soft and
Unicode hyphens between words, letter-spaced headings ("J O H N  D O E"), page footers and
wrapped lines; Word text has no bullets. Everything here is pure and deterministic, so the parser
gives the same answer for the same text on every run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "BULLET",
    "DateRange",
    "Section",
    "clean_lines",
    "find_range",
    "find_single_date",
    "find_trailing_dates",
    "heading_of",
    "is_location_part",
    "is_region",
    "join_wrapped",
    "parse_date",
    "place_indices",
    "split_sections",
    "strip_place_suffix",
]

# --- lines -------------------------------------------------------------------------------------

_SPACES = re.compile(r"[\t\xa0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_HYPHENS = re.compile(r"[\u2010\u2011\u2012\u2212]")
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200d\u2060\ufeff]")
_LETTER_SPACED_WORD = re.compile(r"(?:\w ){2,}\w")
_FOOTER = re.compile(r"(?i)^(?:\d{1,3}(?:\s*/\s*\d{1,3})?|(?:.{0,60} - )?page \d+(?: of \d+)?)$")
# Font Awesome icons without a ToUnicode map come out as their names ("/linkedin-in",
# "\u2642\u00b6ap-\u00b6arker-alt"); those words are no text of the resume.
_ICON_WORD = re.compile(r"(?<!\S)(?:/[a-z\u2322][a-z\u2322-]*|\S*[\u2642\u00b6]\S*)(?!\S)")
# pdfTeX's fake bold prints a CJK glyph three times over: "\u804c\u804c\u804c\u4f4d\u4f4d\u4f4d"
_CJK_TRIPLED = re.compile(r"(?:([\u3400-\u9fff])\1\1)+")
BULLET = re.compile(
    r"^(?:[\u2022\u00b7\u2023\u2043\u25aa\u25cf\u25e6\u25a0\u25a1\u27a2\u25ba\u2713\u2714"
    r"*{\ue000-\uf8ff-]\s*"  # "{" is how moderncv's bullets come out of pdfTeX
    r"|[+\u00ab\u00bb\u00a2]\s+)"  # and how OCR reads a bullet: "+", "\u00ab", "\u00a2"
)


def _unspace(line: str) -> str:
    """Undo letter-spacing, "J O H N  D O E" -> "JOHN DOE" (two spaces between words)."""
    words = re.split(r" {2,}", line.strip())
    if words and all(_LETTER_SPACED_WORD.fullmatch(word) for word in words):
        return " ".join(word.replace(" ", "") for word in words)
    return line


def clean_lines(text: str) -> list[str]:
    """Non-empty lines with whitespace, hyphens and letter-spacing normalized; footers dropped.

    A lone carriage return is a space here: PDF text layers put them between words.
    """
    text = _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", " "))
    text = _HYPHENS.sub("-", _SPACES.sub(" ", text))
    lines = []
    text = _CJK_TRIPLED.sub(lambda m: m.group(0)[::3], _ICON_WORD.sub(" ", text))
    for raw in text.split("\n"):
        line = re.sub(r" {2,}", " ", _unspace(raw)).strip()
        line = re.sub(r"(?<=\w)-{2,}(?=[^\W\d_])", "-", line)  # "on-\u00ad\u2010campus"
        if line and not _FOOTER.match(line):
            lines.append(line)
    return lines


def join_wrapped(lines: list[str]) -> list[str]:
    """Rejoin what a layout split: a lone or leading comma, a date range cut after its dash
    (also when the rest of the entry follows the dash on the same line), and a line ending in
    a comma or a dangling preposition (never onto a bullet or a date)."""
    out: list[str] = []
    for line in lines:
        last = out[-1] if out else ""
        cut_start = _CUT_START.match(last)
        continues = re.match(rf"({_NOW}|{_DATE})\s*", line, re.IGNORECASE)
        if cut_start and continues:
            # a date column read line by line: "2017 - Product Manager" over "Present Leading..."
            head, rest = cut_start.group(1), cut_start.group(2)
            out[-1] = f"{head} {continues.group(1)} {rest}"
            if line[continues.end() :].strip():
                out.append(line[continues.end() :].strip())
            continue
        dangling = last.endswith(",") or re.search(r"\s(?:in|of|and|for)$", last) is not None
        cut_range = re.search(rf"{_DATE}\s*(?:-+|\u2013|\u2014|to)$", last, re.IGNORECASE)
        starts_date = re.match(_DATE, line, re.IGNORECASE) is not None
        if out and (
            line.startswith(",")
            or cut_range is not None
            or (dangling and not starts_date and not BULLET.match(line))
        ):
            out[-1] = f"{last} {line}".replace(" ,", ",")
        else:
            out.append(line)
    return out


# --- sections ----------------------------------------------------------------------------------


class Section(StrEnum):
    SUMMARY = "summary"
    SKILLS = "skills"
    EXPERIENCE = "experience"
    EDUCATION = "education"
    INVOLVEMENT = "involvement"
    CONTACT = "contact"
    OTHER = "other"


def _names(section: Section, names: str) -> dict[str, Section]:
    return {name.strip(): section for name in names.split(";")}


_HEADINGS = {
    **_names(
        Section.SUMMARY,
        "summary;professional summary;career summary;executive summary;profile;professional "
        "profile;personal profile;about;about me;objective;career objective;professional "
        "objective;overview;personal statement;introduction;info",
    ),
    **_names(
        Section.SKILLS,
        "skills;technical skills;computer skills;key skills;core skills;skills & tools;skills and "
        "tools;skill set;skillset;core competencies;competencies;areas of expertise;expertise;"
        "technologies;tools;tech stack;technical proficiencies;strengths;skills & abilities;"
        "skills and abilities;it skills;programming languages;\u8ba1\u7b97\u673a\u6280\u80fd;"
        "\u6280\u80fd",
    ),
    **_names(
        Section.EXPERIENCE,
        "experience;work experience;professional experience;relevant experience;employment;"
        "employment history;work history;career history;professional background;work;"
        "experiences;industry experience;\u5de5\u4f5c\u80cc\u666f;\u5de5\u4f5c\u7ecf\u5386;"
        "\u5de5\u4f5c\u7ecf\u9a8c",
    ),
    **_names(
        Section.EDUCATION,
        "education;academic background;education and training;education & training;academics;"
        "academic history;education & certifications;education and certifications;"
        "\u6559\u80b2\u80cc\u666f;\u6559\u80b2\u7ecf\u5386",
    ),
    **_names(
        Section.INVOLVEMENT,
        "volunteering;volunteer experience;volunteer work;activities;"
        "extracurricular activities;involvement;campus involvement;on campus involvement;"
        "leadership experience;leadership and activities;leadership & activities",
    ),
    **_names(
        Section.OTHER,
        "projects;personal projects;side projects;selected projects;certifications;certificates;"
        "certification;licenses;licenses & certifications;languages;interests;hobbies;awards;"
        "honors;honors/awards;honors & awards;achievements;accomplishments;publications;"
        "references;referees;affiliations;memberships;courses;coursework;"
        "relevant coursework;training;additional information;conferences;"
        "presentations;patents;research;teaching;service;\u8bed\u8a00\u6280\u80fd;"
        "\u4e2a\u4eba\u5174\u8da3;\u6bd5\u4e1a\u8bba\u6587;\u9879\u76ee\u7ecf\u5386",
    ),
    **_names(
        Section.CONTACT,
        "contact;contact information;contact info;contact details;personal information;"
        "personal details;links;social;profiles;online",
    ),
}


def _heading_key(line: str) -> str:
    line = re.sub(r"(?:\s*\.){3,}\s*$", "", line)  # dotted leaders: "Vocational. . . ."
    return re.sub(r"\s+", " ", line.strip().rstrip(":").strip()).casefold()


def heading_of(line: str) -> Section | None:
    """The section ``line`` heads, if it is a heading. A scan may put a word or two of junk
    before it, read from the bar or icon beside it ("\" | Experience", "2 t Skills")."""
    words = _heading_key(line).split()
    while len(words) > 1 and not re.search(r"\w", words[-1].strip("_")):
        words = words[:-1]  # the rule beside it: "Education _"
    kind = _HEADINGS.get(" ".join(words))
    for _ in range(2):
        if kind is not None or len(words) < 2 or len(words[0]) > 2:
            break
        words = words[1:]
        kind = _HEADINGS.get(" ".join(words))
    return kind


def _is_caps_heading(line: str) -> bool:
    """An unknown ALL-CAPS line of a few words ("GOVERNANCE", "ON CAMPUS INVOLVEMENT")."""
    words = line.split()
    letters = re.sub(r"[^A-Za-z]", "", line)
    return (
        1 <= len(words) <= 4
        and len(letters) >= 5
        and re.fullmatch(r"[A-Z][A-Z &/]*[A-Z]:?", line) is not None
    )


def split_sections(lines: list[str]) -> tuple[list[str], dict[Section, list[str]]]:
    """The lines before the first heading, and each kind of section's lines (in document order).

    Unknown ALL-CAPS lines count as headings only when the document's known headings are in
    capitals too; they end the section before them instead of being read as its content.
    """
    caps = any(_heading_key(line) in _HEADINGS and line.isupper() for line in lines)
    header: list[str] = []
    sections: dict[Section, list[str]] = {}
    current: list[str] = header
    for line in lines:
        kind = heading_of(line)
        if kind is None and caps and sections and _is_caps_heading(line):
            kind = Section.OTHER  # only after a known heading: "JOHN DOE" above them is a name
        if kind is None:
            current.append(line)
        else:
            current = sections.setdefault(kind, [])
    return header, sections


# --- dates -------------------------------------------------------------------------------------

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_YEAR = r"(?:19|20)\d{2}(?!\d)"
_DATE = (
    rf"(?:(?<![a-z]){_MONTH}\.?(?![a-z])\s*,?\s*'?{_YEAR}"
    rf"|(?<![a-z])(?:spring|summer|fall|autumn|winter)\s+{_YEAR}"
    rf"|(?<![\d/])(?:0?[1-9]|1[0-2])\s*/\s*{_YEAR}"
    rf"|(?<!\d){_YEAR}\s*[-/.]\s*(?:0[1-9]|1[0-2])(?![\d])"
    rf"|(?<![\d/]){_YEAR})"
)
# Templates print placeholders where dates go: "year--year", "Month 20XX", "\u5e74 - \u5e74".
_PLACEHOLDER = r"(?:(?:month\s+)?(?:19|20)xx(?![a-z])|(?<![a-z])year(?![a-z])|yyyy|\u5e74)"
_NOW = r"(?:present|current(?:ly)?|now|today|ongoing|to date|till date)(?![a-z])"
_DASH = r"(?:-+|\u2013|\u2014|~|\bto\b|\buntil\b|\btill\b|\bthrough\b)"
_RANGE = re.compile(
    rf"(?P<start>{_DATE}|{_PLACEHOLDER})\s*{_DASH}\s*"
    rf"(?:(?P<now>{_NOW})|(?P<end>{_DATE}|{_PLACEHOLDER}))",
    re.IGNORECASE,
)
_CUT_START = re.compile(
    rf"^({_DATE}\s*(?:-+|\u2013|\u2014))\s+(?!{_DATE}|{_NOW})(\S.*)$", re.IGNORECASE
)
_DATE_LIST = re.compile(rf"(?:{_DATE})(?:\s*(?:,|&|and)\s*(?:{_DATE}))*\s*$", re.IGNORECASE)
_SINGLE = re.compile(_DATE, re.IGNORECASE)


@dataclass(frozen=True)
class DateRange:
    """Dates as JSON Resume writes them; ``span`` is where they were found in the line."""

    start: str | None
    end: str | None
    current: bool
    span: tuple[int, int]


def parse_date(value: str) -> str | None:
    """A JSON Resume date: "Jan 2020", "01/2020", "2020-01" -> "2020-01"; "Fall 2019" -> "2019"."""
    value = value.strip().casefold()
    year = re.search(r"(?:19|20)\d{2}", value)
    if year is None:
        return None
    month = re.match(_MONTH, value)
    if month:
        return f"{year.group(0)}-{_MONTHS[month.group(0)[:3]]:02d}"
    numeric = re.fullmatch(r"(\d{1,2})\s*/\s*\d{4}|\d{4}\s*[-/.]\s*(\d{2})", value)
    if numeric:
        return f"{year.group(0)}-{int(numeric.group(1) or numeric.group(2)):02d}"
    return year.group(0)


def find_range(line: str) -> DateRange | None:
    """The first date range in ``line``: "Jan 2020 - Present", "2019-2021", "06/2018 to 08/2020"."""
    match = _RANGE.search(line)
    if match is None:
        return None
    end = None if match.group("now") else parse_date(match.group("end"))
    return DateRange(parse_date(match.group("start")), end, bool(match.group("now")), match.span())


def find_trailing_dates(line: str) -> DateRange | None:
    """Dates closing ``line`` with no range between them: "YMCA, Pomona, CA Summer 2013, 2014"."""
    match = _DATE_LIST.search(line)
    if match is None:
        return None
    dates = list(_SINGLE.finditer(match.group(0)))
    first, last = parse_date(dates[0].group(0)), parse_date(dates[-1].group(0))
    return DateRange(first, last if last != first else None, False, match.span())


def find_single_date(line: str) -> DateRange | None:
    """The last lone date in ``line`` (an education end date: "State University, May 2016")."""
    matches = list(_SINGLE.finditer(line))
    if not matches:
        return None
    return DateRange(None, parse_date(matches[-1].group(0)), False, matches[-1].span())


# --- places ------------------------------------------------------------------------------------


def _folded(names: str) -> frozenset[str]:
    return frozenset(name.strip().casefold() for name in names.split(";"))


_STATE_CODES = _folded(
    "al;ak;az;ar;ca;co;ct;de;dc;fl;ga;hi;id;il;in;ia;ks;ky;la;me;md;ma;mi;mn;ms;mo;mt;ne;nv;nh;nj;"
    "nm;ny;nc;nd;oh;ok;or;pa;ri;sc;sd;tn;tx;ut;vt;va;wa;wv;wi;wy;ab;bc;mb;nb;nl;ns;on;pe;qc;sk"
)
_REGIONS = _folded(
    "USA;US;U.S.;U.S.A.;United States;UK;U.K.;United Kingdom;England;Canada;India;Germany;"
    "France;Spain;Italy;Netherlands;Ireland;Australia;New Zealand;China;Japan;Singapore;"
    "Brazil;Mexico;Israel;Switzerland;Sweden;Poland;Remote;"
    "Alabama;Alaska;Arizona;Arkansas;California;Colorado;Connecticut;Delaware;Florida;"
    "Georgia;Hawaii;Idaho;Illinois;Indiana;Iowa;Kansas;Kentucky;Louisiana;Maine;Maryland;"
    "Massachusetts;Michigan;Minnesota;Mississippi;Missouri;Montana;Nebraska;Nevada;"
    "New Hampshire;New Jersey;New Mexico;New York;North Carolina;North Dakota;Ohio;Oklahoma;"
    "Oregon;Pennsylvania;Rhode Island;South Carolina;South Dakota;Tennessee;Texas;Utah;"
    "Vermont;Virginia;Washington;West Virginia;Wisconsin;Wyoming"
)
_CITIES = _folded(
    "San Francisco;Los Angeles;Seattle;Chicago;Boston;Austin;London;Berlin;Paris;Toronto;"
    "Bangalore;Bengaluru;Mumbai;New Delhi;Sydney;Dublin;Amsterdam;Silicon Valley"
)


def is_region(part: str, *, first: bool = False) -> bool:
    """A state code, a state or a country; a bare code never leads a line ("CA, Irvine")."""
    part = part.strip()
    if part.isupper() and part.casefold() in _STATE_CODES:
        return not first
    return part.casefold() in _REGIONS


def is_location_part(part: str, *, first: bool = False) -> bool:
    """A region or a well-known city."""
    return is_region(part, first=first) or part.strip().casefold() in _CITIES


def place_indices(parts: list[str]) -> set[int]:
    """Which of a line's comma-separated parts name a place: known places, and the part just
    before a state or country ("New Orleans" in "Gilmore Financial, New Orleans, LA").
    The first part is never taken for a city: it names the employer or the school."""
    places = {i for i, part in enumerate(parts) if is_location_part(part, first=i == 0)}
    runs = [i for i in places if i - 1 not in places and is_region(parts[i])]
    return places | {i - 1 for i in runs if i > 1}


def strip_place_suffix(text: str) -> str:
    """Drop a trailing place, as two-column layouts put it beside a name ("Microsoft New York").
    "University of California" stays whole: what is left must not end in a preposition."""
    for name in sorted(_REGIONS | _CITIES, key=len, reverse=True):
        rest = text[: -len(name)].strip(" ,|\u2022")
        dangling = re.search(r"\b(?:of|at|in|de)$", rest)
        if text.casefold().endswith(" " + name) and rest and not dangling:
            return rest
    return text
