"""Scoring an application against its job post: pure, explainable arithmetic.

score = 100 * (w_sim * similarity + w_skills * coverage + w_exp * experience), each part in [0, 1]:
- similarity: cosine of the resume's and the job post's embeddings, clipped at 0;
- coverage: the share of the job's required skills found in the resume (skills list or text);
- experience: years of work found (overlaps merged) over the years the job asks for, capped at 1.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel, ConfigDict

from resumeflow.domain.jobs import JobPost
from resumeflow.domain.resume import ParsedResume, WorkEntry

__all__ = ["ScoreBreakdown", "ScoreWeights", "cosine", "score_application", "years_of_experience"]


class ScoreWeights(BaseModel):
    model_config = ConfigDict(frozen=True)

    similarity: float = 0.40
    skills: float = 0.45
    experience: float = 0.15


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
    for skill in job.required_skills:
        key = _normalize(skill)
        (matched if key in known or _mentions(haystack, key) else missing).append(skill)
    coverage = len(matched) / len(job.required_skills) if job.required_skills else 1.0
    years = years_of_experience(resume.work, as_of)
    experience = min(1.0, years / job.min_years_experience) if job.min_years_experience > 0 else 1.0
    total = 100 * (
        weights.similarity * similarity
        + weights.skills * coverage
        + weights.experience * experience
    )
    return ScoreBreakdown(
        total=round(total, 2),
        similarity=round(similarity, 4),
        skill_coverage=round(coverage, 4),
        experience=round(experience, 4),
        matched_skills=tuple(matched),
        missing_skills=tuple(missing),
        years_experience=years,
        required_years=job.min_years_experience,
        weights=weights,
    )
