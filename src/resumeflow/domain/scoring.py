"""Scoring an application against its job post: pure, explainable arithmetic.

score = 100 * (w_sim * similarity + w_skills * coverage + w_exp * experience), each part in [0, 1]:
- similarity: cosine of the resume's and the job post's embeddings, clipped at 0;
- coverage: the weighted share of the job's skill requirements the resume meets (skills list or
  text); a requirement is met by any skill it accepts (its options and their families), and a
  nice-to-have weighs less than a requirement;
- experience: the years of *relevant* work (entries that name a skill the job asks for, or a
  word of its title; overlaps merged) over the years the job asks for, capped at 1. A post that
  asks for no years gives no experience points to anyone: the other two parts share its weight.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel, ConfigDict

from resumeflow.domain.jobs import JobPost
from resumeflow.domain.resume import ParsedResume, WorkEntry

__all__ = [
    "ScoreBreakdown",
    "ScoreWeights",
    "cosine",
    "relevant_work",
    "score_application",
    "years_of_experience",
]

# Words of a job title that say nothing about the field ("Senior Backend Engineer" -> backend).
_GENERIC = """
senior junior lead principal staff head chief associate assistant intern engineer developer
manager specialist consultant analyst officer director of and the a an i ii iii iv sr jr
years year experience
"""
_GENERIC_TITLE_WORDS = frozenset(_GENERIC.split())


class ScoreWeights(BaseModel):
    model_config = ConfigDict(frozen=True)

    similarity: float = 0.30
    skills: float = 0.50
    experience: float = 0.20


class ScoreBreakdown(BaseModel):
    """What a recruiter reads: the total and every part it was made of."""

    model_config = ConfigDict(frozen=True)

    total: float
    similarity: float
    skill_coverage: float
    experience: float
    matched_skills: tuple[str, ...]
    missing_skills: tuple[str, ...]
    years_experience: float
    """Years of relevant work (see ``relevant_work``)."""
    required_years: float
    weights: ScoreWeights


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) != len(b):
        raise ValueError(f"vectors differ in dimension: {len(a)} != {len(b)}")
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def _normalize(skill: str) -> str:
    return re.sub(r"\s+", " ", skill.casefold()).strip()


def _mentions(text: str, skill: str) -> bool:
    """Whole-word mention, tolerant of symbols that \\b cannot see (C++, C#, .NET, Node.js)."""
    pattern = r"(?<![\w+#.])" + re.escape(skill) + r"(?![\w+#])"
    return re.search(pattern, text) is not None


def _month_index(value: str | None) -> int | None:
    if not value:
        return None
    match = re.match(r"^(\d{4})(?:-(\d{2}))?", value)
    if not match:
        return None
    return int(match.group(1)) * 12 + (int(match.group(2) or 1) - 1)


def years_of_experience(work: Sequence[WorkEntry], as_of: date) -> float:
    """Total years covered by dated work entries, overlapping periods counted once."""
    now = as_of.year * 12 + as_of.month - 1
    spans: list[tuple[int, int]] = []
    for entry in work:
        start = _month_index(entry.start)
        end = now if entry.current or entry.end is None else _month_index(entry.end)
        if start is None or end is None or end < start:
            continue
        spans.append((start, min(end, now) + 1))
    spans.sort()
    months = 0
    cursor = -1
    for start, end in spans:
        start = max(start, cursor)
        if end > start:
            months += end - start
            cursor = end
    return round(months / 12, 2)


def _title_words(text: str) -> set[str]:
    words = set(re.findall(r"[a-z][a-z+#.]*", text.casefold()))
    return {w for w in words if w not in _GENERIC_TITLE_WORDS and len(w) > 1}


def relevant_work(resume: ParsedResume, job: JobPost) -> tuple[WorkEntry, ...]:
    """The work entries that bear on ``job``: they name a skill it requires (nice-to-haves and
    soft skills do not count), or share a distinctive word with its title ("backend", "java")."""
    accepted = {_normalize(s) for r in job.skill_requirements if r.weight == 1 for s in r.accepts}
    title_words = _title_words(job.title)
    kept = []
    for entry in resume.work:
        text = _normalize(" ".join(filter(None, (entry.title, entry.summary))))
        named = any(_mentions(text, skill) for skill in accepted)
        if named or title_words & _title_words(entry.title or ""):
            kept.append(entry)
    return tuple(kept)


def score_application(
    *,
    resume: ParsedResume,
    resume_text: str,
    resume_vector: Sequence[float],
    job: JobPost,
    job_vector: Sequence[float],
    as_of: date,
    weights: ScoreWeights | None = None,
) -> ScoreBreakdown:
    weights = weights or ScoreWeights()
    similarity = max(0.0, cosine(resume_vector, job_vector))
    known = {_normalize(s) for s in resume.skills}
    haystack = _normalize(resume_text)
    matched: list[str] = []
    missing: list[str] = []
    met = total_weight = 0.0
    for requirement in job.skill_requirements:
        keys = [_normalize(skill) for skill in requirement.accepts]
        hit = any(key in known or _mentions(haystack, key) for key in keys)
        (matched if hit else missing).append(requirement.label)
        met += requirement.weight if hit else 0.0
        total_weight += requirement.weight
    coverage = met / total_weight if total_weight else 0.0
    years = years_of_experience(relevant_work(resume, job), as_of)
    asked = job.min_years_experience
    experience = min(1.0, years / asked) if asked > 0 else 0.0
    parts = weights.similarity * similarity + weights.skills * coverage
    if asked > 0:
        total = 100 * (parts + weights.experience * experience)
    else:
        total = 100 * parts / (weights.similarity + weights.skills)
    return ScoreBreakdown(
        total=round(total, 2),
        similarity=round(similarity, 4),
        skill_coverage=round(coverage, 4),
        experience=round(experience, 4),
        matched_skills=tuple(matched),
        missing_skills=tuple(missing),
        years_experience=years,
        required_years=asked,
        weights=weights,
    )
