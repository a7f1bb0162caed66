"""Job posts from plain text: the title, the skills the post asks for and the years it wants.

Skills are read from the whole post except the parts about the company, the benefits and how
to apply: a stack named in the first paragraph is as much asked for as one under
"Requirements". "such as A, B and C", "A, B or C" and "(A or B)" ask for any one of them; what a
post calls nice to have, preferred, a plus or a bonus weighs half, and so do soft skills
(communication, leadership...), which every post asks for and few resumes show. Each
requirement accepts the skill's family (SQL accepts MySQL). Rules only: the same text always
gives the same JobPost.
"""

from __future__ import annotations

import re
from itertools import pairwise
from uuid import UUID

from resumeflow.adapters.local.skills import find_skills, narrower_skills
from resumeflow.domain.jobs import JobPost, SkillRequirement

__all__ = ["NICE_TO_HAVE_WEIGHT", "job_post_from_text", "skill_requirements"]

_REQUIREMENTS = re.compile(
    r"(?im)^[ \t]*(?:requirements|(?:required |minimum |basic )?qualifications|"
    r"what you(?:'|\u2019)ll need|what we(?:'|\u2019)re looking for|must[- ]haves?|you have|"
    r"who you are|skills(?: required)?|experience required)\b[ \t]*:?"
)
_AFTER_REQUIREMENTS = re.compile(
    r"(?im)^[ \t]*(?:benefits|perks|what we offer|about us|about the (?:company|team)|how to apply|"
    r"nice[- ]to[- ]haves?|preferred qualifications|bonus points|responsibilities|compensation|"
    r"salary)\b"
)
_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
}  # fmt: skip
_NUMBER = r"\d{1,2}(?:\.\d)?|" + "|".join(_WORDS)
_YEARS = re.compile(
    rf"(?i)(?<![\w.])(?P<low>{_NUMBER})\s*\+?\s*(?:(?:-|\u2013|\u2014|to)\s*(?:{_NUMBER})\s*\+?\s*)?"
    r"(?:or more\s+|plus\s+)?(?:years?|yrs?)\b(?=(?P<after>.{0,60}))",
    re.DOTALL,
)
_TITLE_PREFIX = re.compile(r"(?i)^(?:job (?:description|title|posting)|position|role|title)\s*:\s*")
_TITLE_IN_TEXT = re.compile(
    r"(?:looking for|hiring|seeking|searching for)\s+(?:an?|the|our)\s+"
    r"(?:(?:talented|skilled|seasoned|experienced|motivated)\s+)*"
    r"(?P<title>[A-Z][\w+#/.-]*(?:\s+[A-Z][\w+#/.-]*){0,5})"
)


NICE_TO_HAVE_WEIGHT = 0.5
_NOT_ASKED = re.compile(
    r"(?im)^[ \t]*(?:benefits|perks|what we offer|about us|about the (?:company|team)|"
    r"how to apply|compensation|salary)\b[^\n]*$"
)
_ANY_HEADING = re.compile(
    r"(?im)^[ \t]*(?:[A-Z][\w'\u2019 /&-]{2,40}:?|requirements|responsibilities|"
    r"qualifications)[ \t]*$"
)
_NICE_HEADING = re.compile(
    r"(?im)^[ \t]*(?:nice[- ]to[- ]haves?|preferred(?: qualifications| skills)?|bonus(?: points)?|"
    r"pluses|good to have)\b"
)
_NICE_CLAUSE = re.compile(
    r"(?i)\b(?:nice[- ]to[- ]have|preferred|(?:is |are |a )?(?:big )?plus\b|bonus|appreciated|"
    r"desirable|not required)"
)
_SOFT = frozenset(narrower_skills("Soft Skills"))
_CLAUSE = re.compile(r"(?<=[.;:!?])\s+|\n\s*\n|\n(?=\s*[\u2022*-])|\s*\u2022\s*")
_OPTIONS = re.compile(
    r"(?i)\b(?:such as|e\.g\.,?|for example|including|like)\s+((?:[^.;()]|\.(?=\w))+)"
)
_PARENS = re.compile(r"\(([^()]*)\)")


def job_post_from_text(text: str, *, job_post_id: UUID, title: str | None = None) -> JobPost:
    """A JobPost read from a posting's text; ``title`` overrides the one found in the text.

    The minimum years is the smallest number of years the requirements ask for, else the
    smallest mentioned beside "experience" anywhere.
    """
    description = text.strip()
    if not description:
        raise ValueError("a job post needs some text")
    requirements = _requirements(description)
    wanted = skill_requirements(description)
    return JobPost(
        id=job_post_id,
        title=title or _title(description),
        description=description,
        required_skills=tuple(dict.fromkeys(s for r in wanted if r.weight == 1 for s in _named(r))),
        skill_requirements=wanted,
        min_years_experience=_min_years(requirements, description),
    )


def _named(requirement: SkillRequirement) -> tuple[str, ...]:
    """The skills a requirement names (its label, or each option of a "one of" group)."""
    if requirement.label.startswith("one of "):
        return tuple(requirement.label.removeprefix("one of ").split(", "))
    return (requirement.label,)


def skill_requirements(text: str) -> tuple[SkillRequirement, ...]:
    """What the post asks for, in order of first mention, each at its highest weight."""
    found: dict[tuple[str, ...], float] = {}
    for part, weight in _asking_parts(text):
        for clause in _CLAUSE.split(part):
            clause_weight = NICE_TO_HAVE_WEIGHT if _NICE_CLAUSE.search(clause) else weight
            for group in _groups(clause):
                found[group] = max(found.get(group, 0.0), clause_weight)
    result: list[SkillRequirement] = []
    for group, weight in found.items():
        accepts = tuple(dict.fromkeys(a for s in group for a in (s, *narrower_skills(s))))
        if all(skill in _SOFT for skill in group):
            weight = min(weight, NICE_TO_HAVE_WEIGHT)  # everyone claims them; a resume shows few
        label = group[0] if len(group) == 1 else "one of " + ", ".join(group)
        result.append(SkillRequirement(label=label, accepts=accepts, weight=weight))
    return tuple(result)


def _asking_parts(text: str) -> list[tuple[str, float]]:
    """The post cut at its headings, without the parts that ask for nothing (benefits...);
    a nice-to-have part weighs less."""
    parts: list[tuple[str, float]] = []
    cuts = sorted(
        {0, len(text)}
        | {m.start() for m in _ANY_HEADING.finditer(text)}
        | {m.start() for m in _NOT_ASKED.finditer(text)}
        | {m.start() for m in _NICE_HEADING.finditer(text)}
    )
    for start, end in pairwise(cuts):
        part = text[start:end]
        if _NOT_ASKED.match(part):
            continue
        parts.append((part, NICE_TO_HAVE_WEIGHT if _NICE_HEADING.match(part) else 1.0))
    return parts


def _groups(clause: str) -> list[tuple[str, ...]]:
    """The clause's skills: one group per "such as"/parenthesised/"or" list, singles else."""
    spans: list[tuple[int, int]] = []
    groups: list[tuple[int, tuple[str, ...]]] = []
    for pattern in (_OPTIONS, _PARENS):
        for match in pattern.finditer(clause):
            inner = match.group(1)
            skills = find_skills(inner)
            is_list = pattern is _OPTIONS or re.search(r"\bor\b|,", inner)
            if len(skills) > 1 and is_list:
                spans.append(match.span(1))
                groups.append((match.start(1), skills))
    rest = "".join(
        " " if any(a <= i < b for a, b in spans) else char for i, char in enumerate(clause)
    )
    for match in re.finditer(r"[^,]+(?:,\s*[^,]+)*", rest):
        piece = match.group(0)
        for alternative in re.split(r"(?i),?\s+and\s+|,\s*(?!or\b)", piece):
            skills = find_skills(alternative)
            if len(skills) > 1 and re.search(r"(?i)\bor\b", alternative):
                groups.append((match.start() + piece.find(alternative), skills))
            else:
                groups.extend((match.start(), (skill,)) for skill in skills)
    return [group for _, group in sorted(groups, key=lambda item: item[0])]


def _requirements(text: str) -> str:
    """From the first requirements heading to the next heading that is about something else."""
    start = _REQUIREMENTS.search(text)
    if start is None:
        return ""
    end = _AFTER_REQUIREMENTS.search(text, start.end())
    return text[start.end() : end.start() if end else len(text)]


def _years(match: re.Match[str]) -> float:
    low = match.group("low").casefold()
    return float(_WORDS.get(low, 0) or low)


def _min_years(requirements: str, text: str) -> float:
    in_requirements = [_years(m) for m in _YEARS.finditer(requirements)]
    if in_requirements:
        return min(in_requirements)
    beside_experience = [
        _years(m)
        for m in _YEARS.finditer(text)
        if re.match(r"\W*(?:of\s+)?(?:\w+\s+){0,4}?experience", m.group("after"), re.IGNORECASE)
    ]
    return min(beside_experience, default=0.0)


def _title(text: str) -> str:
    """The first line when it reads as a title ("Job Description: Java Developer (3 Years...)"),
    else the role a sentence names ("We are looking for a Senior Backend Engineer to...")."""
    first = next(line.strip() for line in text.splitlines() if line.strip())
    candidate = re.sub(r"\s*\([^)]*\)?\s*$", "", _TITLE_PREFIX.sub("", first)).strip()
    sentence = candidate.endswith(".") or re.match(r"(?i)(?:we|our|you|at|join)\b", candidate)
    if candidate and len(candidate.split()) <= 10 and not sentence:
        return candidate
    named = _TITLE_IN_TEXT.search(text)
    if named:
        return named.group("title").strip()
    return first[:80].rstrip()
