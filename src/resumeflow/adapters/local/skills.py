"""The skills taxonomy (a data file shipped in this package) and a matcher over free text.

Resumes and job posts name the same skill many ways ("JS", "ES6", "JavaScript"; "k8s",
"Kubernetes"); scoring compares skills by name, so both sides are mapped to one canonical
display name here. Matching is whole-word but tolerant of the symbols that ``\\b`` cannot see
(C++, C#, .NET, Node.js, CI/CD), and terms that are also ordinary English words or letters
("Go", "R", "React", "Spring Boot" vs "spring") match only in their exact case.

The taxonomy also groups skills into families (``data/skills.taxonomy`` says how, and where it
comes from): knowing a narrower skill counts as knowing the broader one, so a job asking for SQL
is met by MySQL, and one asking for JavaScript by React.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from importlib import resources

__all__ = ["broader_skills", "canonical_skill", "find_skills", "narrower_skills", "vocabulary"]

_DATA = "data/skills.taxonomy"


_CASE_MARK = "!"
_WORD_GAP = r"[\s\-]+"
_SHORT = 2  # terms this short also refuse a hyphen or dot beside them ("C-suite", "R. Smith")


@cache
def _sections() -> dict[str, str]:
    """The data file's sections by name, comments dropped."""
    raw = resources.files("resumeflow.adapters.local").joinpath(_DATA).read_text("utf-8")
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for line in raw.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if heading := re.fullmatch(r"\[(\w+)\]", line.strip()):
            current = sections.setdefault(heading.group(1), [])
        else:
            current.append(line)
    return {name: "\n".join(lines) for name, lines in sections.items()}


def _entries() -> Iterator[tuple[str, tuple[str, ...]]]:
    text = re.sub(r"\n\|", " |", _sections()["skills"])  # "|" at a line's start continues it
    for line in text.splitlines():
        for entry in line.split(";"):
            terms = [term.strip() for term in entry.split("|") if term.strip()]
            if terms:
                yield terms[0], tuple(terms)


def _key(term: str, *, exact: bool) -> str:
    collapsed = re.sub(_WORD_GAP, " ", term.strip())
    return collapsed if exact else collapsed.casefold()


def _build() -> tuple[dict[str, str], dict[str, str], re.Pattern[str]]:
    exact: dict[str, str] = {}
    folded: dict[str, str] = {}
    alternatives: list[tuple[int, str]] = []
    for display, terms in _entries():
        canonical = display.removeprefix(_CASE_MARK)
        for raw in terms:
            is_exact = raw.startswith(_CASE_MARK)
            term = raw.removeprefix(_CASE_MARK)
            table = exact if is_exact else folded
            table.setdefault(_key(term, exact=is_exact), canonical)
            body = _WORD_GAP.join(re.escape(part) for part in re.split(r"[\s\-]+", term))
            if len(term) <= _SHORT:
                body = rf"(?<![\-.]){body}(?![\-.]\w|\.\s?[A-Z])"
            if len(term) == 1:  # not a letter of letter-spaced text ("S E N I O R")
                body = rf"(?<!\b\w ){body}(?! \w\b(?![+#]))"
            alternatives.append((len(term), body if is_exact else f"(?i:{body})"))
    alternatives.sort(key=lambda item: -item[0])  # longest first: "JavaScript" before "Java"
    union = "|".join(body for _, body in alternatives)
    # Not inside a word, an e-mail, a domain ("github.com") or an icon name ("/github").
    pattern = re.compile(rf"(?<![\w+#.&@])(?<!\W/)(?<!^/)(?:{union})(?![\w+#&@]|\.\w)")
    return exact, folded, pattern


_EXACT, _FOLDED, _PATTERN = _build()


def canonical_skill(term: str) -> str | None:
    """The canonical name of ``term`` when the whole of it is a known skill or alias, else None."""
    return _EXACT.get(_key(term, exact=True)) or _FOLDED.get(_key(term, exact=False))


def find_skills(text: str) -> tuple[str, ...]:
    """Canonical names of the known skills in ``text``, once each, in order of first mention."""
    found: dict[str, None] = {}
    for match in _PATTERN.finditer(text):
        name = canonical_skill(match.group(0))
        if name is not None:
            found.setdefault(name, None)
    return tuple(found)


@cache
def _families() -> dict[str, tuple[str, ...]]:
    """Broader skill -> every skill under it, followed down the family tree."""
    direct: dict[str, list[str]] = {}
    for line in _sections()["families"].splitlines():
        broader, _, members = line.partition(":")
        direct.setdefault(broader.strip(), []).extend(m.strip() for m in members.split(","))
    closed: dict[str, tuple[str, ...]] = {}
    for broader in direct:
        seen: dict[str, None] = {}
        todo = list(direct[broader])
        while todo:
            skill = todo.pop(0)
            if skill not in seen and skill != broader:
                seen[skill] = None
                todo.extend(direct.get(skill, []))
        closed[broader] = tuple(seen)
    return closed


def narrower_skills(skill: str) -> tuple[str, ...]:
    """Skills that count as ``skill`` (its family, followed down): "SQL" -> MySQL, ..."""
    return _families().get(skill, ())


@cache
def _broader() -> dict[str, tuple[str, ...]]:
    up: dict[str, list[str]] = {}
    for broader, members in _families().items():
        for member in members:
            up.setdefault(member, []).append(broader)
    return {skill: tuple(families) for skill, families in up.items()}


def broader_skills(skill: str) -> tuple[str, ...]:
    """The families ``skill`` belongs to, followed up: "MySQL" -> SQL; "React" -> JavaScript."""
    return _broader().get(skill, ())


def vocabulary() -> tuple[str, ...]:
    """Every canonical skill name, in table order."""
    return tuple(dict.fromkeys(display.removeprefix(_CASE_MARK) for display, _ in _entries()))
