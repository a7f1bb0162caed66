"""Job posts from plain text: the title, the skills the post requires and the years it asks for.

Scoring measures a resume against ``required_skills`` and ``min_years_experience``, so both are
read from where a post states requirements ("Requirements", "Qualifications", ...) and not from
the company blurb or the benefits. Rules only: the same text always gives the same JobPost.
"""

from __future__ import annotations

import re
from uuid import UUID

from resumeflow.adapters.local.skills import find_skills
from resumeflow.domain.jobs import JobPost

__all__ = ["job_post_from_text"]

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
_MIN_SECTION_SKILLS = 3


def job_post_from_text(text: str, *, job_post_id: UUID, title: str | None = None) -> JobPost:
    """A JobPost read from a posting's text; ``title`` overrides the one found in the text.

    Required skills come from the requirements part when it names at least a few known skills,
    else from the whole post. The minimum years is the smallest number of years the
    requirements ask for, else the smallest mentioned beside "experience" anywhere.
    """
    description = text.strip()
    if not description:
        raise ValueError("a job post needs some text")
    requirements = _requirements(description)
    skills = find_skills(requirements) if requirements else ()
    if len(skills) < _MIN_SECTION_SKILLS:
        skills = tuple(dict.fromkeys((*skills, *find_skills(description))))
    return JobPost(
        id=job_post_id,
        title=title or _title(description),
        description=description,
        required_skills=skills,
        min_years_experience=_min_years(requirements, description),
    )


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
