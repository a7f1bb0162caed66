from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from resumeflow.domain.jobs import JobPost, SkillRequirement
from resumeflow.domain.resume import ParsedResume, WorkEntry
from resumeflow.domain.scoring import cosine, score_application, years_of_experience

JOB = JobPost(
    id=uuid4(),
    title="Backend Engineer",
    description="Python services",
    required_skills=("Python", "PostgreSQL", "C++", "Kubernetes"),
    min_years_experience=4,
)


def test_overlapping_jobs_count_once() -> None:
    work = [
        WorkEntry(start="2018-01", end="2020-12"),
        WorkEntry(start="2020-01", end="2021-12"),
        WorkEntry(start="2023", current=True),
    ]
    # 2018-01..2021-12 = 48 months; 2023-01..2024-06 = 18 months
    assert years_of_experience(work, date(2024, 6, 15)) == 5.5


def test_undated_or_backwards_entries_are_ignored() -> None:
    work = [WorkEntry(title="Intern"), WorkEntry(start="2020-05", end="2019-01")]
    assert years_of_experience(work, date(2024, 1, 1)) == 0


def test_the_breakdown_names_matched_and_missing_skills() -> None:
    # relevant work: the entry names a required skill
    resume = ParsedResume(
        skills=("python",),
        work=(WorkEntry(title="Python developer", start="2022-01", end="2023-12"),),
    )
    text = "Built services in Python and C++ on PostgreSQL. Knows C#."
    breakdown = score_application(
        resume=resume,
        resume_text=text,
        resume_vector=(1.0, 0.0),
        job=JOB,
        job_vector=(1.0, 0.0),
        as_of=date(2024, 1, 1),
    )
    assert breakdown.matched_skills == ("Python", "PostgreSQL", "C++")
    assert breakdown.missing_skills == ("Kubernetes",)
    assert breakdown.skill_coverage == 0.75
    assert breakdown.experience == 0.5
    assert breakdown.total == pytest.approx(100 * (0.30 * 1.0 + 0.50 * 0.75 + 0.20 * 0.5))


def test_a_better_match_scores_higher() -> None:
    weak = score_application(
        resume=ParsedResume(),
        resume_text="Sales",
        resume_vector=(0.0, 1.0),
        job=JOB,
        job_vector=(1.0, 0.0),
        as_of=date(2024, 1, 1),
    )
    strong = score_application(
        resume=ParsedResume(
            skills=JOB.required_skills,
            work=(WorkEntry(title="Backend developer", start="2015-01", current=True),),
        ),
        resume_text="",
        resume_vector=(0.8, 0.6),
        job=JOB,
        job_vector=(1.0, 0.0),
        as_of=date(2024, 1, 1),
    )
    assert weak.total == 0 and strong.total > 90


def test_cosine_refuses_mismatched_dimensions() -> None:
    with pytest.raises(ValueError, match="dimension"):
        cosine((1.0,), (1.0, 0.0))


def _score(resume: ParsedResume, job: JobPost, text: str = "") -> float:
    return score_application(
        resume=resume,
        resume_text=text,
        resume_vector=(1.0, 0.0),
        job=job,
        job_vector=(1.0, 0.0),
        as_of=date(2024, 1, 1),
    ).skill_coverage


def test_any_of_is_met_by_one_option_and_a_family_member_counts() -> None:
    job = JobPost(
        id=uuid4(),
        title="Engineer",
        description="",
        skill_requirements=(
            SkillRequirement(label="one of Python, Ruby", accepts=("Python", "Ruby")),
            SkillRequirement(label="SQL", accepts=("SQL", "MySQL")),
        ),
    )
    assert _score(ParsedResume(skills=("Ruby", "MySQL")), job) == 1.0
    assert _score(ParsedResume(skills=("Ruby",)), job) == 0.5


def test_a_nice_to_have_weighs_less_than_a_requirement() -> None:
    job = JobPost(
        id=uuid4(),
        title="Engineer",
        description="",
        skill_requirements=(
            SkillRequirement.single("Python"),
            SkillRequirement(label="Go", accepts=("Go",), weight=0.5),
        ),
    )
    assert _score(ParsedResume(skills=("Python",)), job) == pytest.approx(1 / 1.5, abs=1e-4)
    assert _score(ParsedResume(skills=("Go",)), job) == pytest.approx(0.5 / 1.5, abs=1e-4)


def test_irrelevant_work_and_a_post_without_years_give_no_experience_points() -> None:
    resume = ParsedResume(work=(WorkEntry(title="Barista", start="2010-01", current=True),))
    asks = score_application(
        resume=resume,
        resume_text="",
        resume_vector=(0.0, 1.0),
        job=JOB,
        job_vector=(1.0, 0.0),
        as_of=date(2024, 1, 1),
    )
    assert (asks.years_experience, asks.experience, asks.total) == (0, 0, 0)
    silent = JOB.model_copy(update={"min_years_experience": 0.0})
    relevant = ParsedResume(
        skills=JOB.required_skills,
        work=(WorkEntry(title="Backend developer", start="2010-01", current=True),),
    )
    no_years = score_application(
        resume=relevant,
        resume_text="",
        resume_vector=(1.0, 0.0),
        job=silent,
        job_vector=(1.0, 0.0),
        as_of=date(2024, 1, 1),
    )
    assert no_years.experience == 0 and no_years.total == pytest.approx(100)
