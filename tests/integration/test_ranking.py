"""Scores that rank: every shared resume against every shared job post, through the local
adapters the embedded pipeline uses (extractor, parser, embedder, job reader, scoring).

Which resume goes with which job is written here from ../shared/data/external/SOURCES.md (the
five pairs) and from reading the resumes: MATCHES per job, and the field of each resume. A resume
is *unrelated* to a job when it is outside software and product work altogether (accounting,
office, IT support, a student, the placeholder templates); engineers are neither matches nor
unrelated for each other's jobs.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from uuid import uuid4

import pytest

from resumeflow.adapters.local.embedder import TermEmbedder
from resumeflow.adapters.local.extraction import extract_document
from resumeflow.adapters.local.jobs import job_post_from_text
from resumeflow.adapters.local.parser import parse_resume_text
from resumeflow.domain.documents import sniff_format
from resumeflow.domain.jobs import JobPost
from resumeflow.domain.scoring import ScoreBreakdown, score_application
from tests.conftest import EXTERNAL, needs_shared

pytestmark = [pytest.mark.integration, needs_shared]

PAIRS = {
    "resume-matcher__job_desc_product_manager.pdf": "resume-matcher__alfred_pennyworth_pm.pdf",
    "resume-matcher__job_desc_front_end_engineer.pdf": "resume-matcher__barry_allen_fe.pdf",
    "resume-matcher__job_desc_full_stack_engineer.pdf": "resume-matcher__bruce_wayne_fullstack.pdf",
    "resume-matcher__job_desc_java_developer.pdf": "resume-matcher__john_doe.pdf",
    "resume-matcher__jd_ml-eng.txt": "resume-matcher__harvey_dent_mle.pdf",
}
MATCHES = {job: {resume} for job, resume in PAIRS.items()} | {
    "resume-matcher__jd_backend-eng.txt": {
        "resume-parser-api__senior-backend-developer.pdf",
        "resume-matcher__modern-two-column.pdf",
    },
    "resume-matcher__jd_frontend-eng.txt": {"resume-matcher__barry_allen_fe.pdf"},
    "resume-matcher__jd_product-manager.txt": {"resume-matcher__alfred_pennyworth_pm.pdf"},
}
OUTSIDE_TECH = {
    "altacv__sample.pdf",
    "moderncv__template-zh.pdf",
    "moderncv__template_banking_red.pdf",
    "moderncv__template_classic_green.pdf",
    "open-resume__laverne-resume.pdf",
    "soupboss__01-Accountant.docx",
    "soupboss__01-Accountant.pdf",
    "soupboss__02-Desktop_Support.docx",
    "soupboss__02-Office_Coordinator.docx",
}
AS_OF = date(2025, 6, 1)
EMBEDDER = TermEmbedder(512)


@cache
def _text(folder: str, name: str) -> str:
    assert EXTERNAL is not None
    data = (EXTERNAL / folder / name).read_bytes()
    fmt = sniff_format(data)
    assert fmt is not None
    return extract_document(data, fmt).text


def _resumes() -> list[str]:
    assert EXTERNAL is not None
    return sorted(
        p.name for p in (EXTERNAL / "resumes").iterdir() if p.is_file() and p.suffix != ".png"
    )


@cache
def _ranking(job_name: str) -> list[tuple[float, str, ScoreBreakdown]]:
    job: JobPost = job_post_from_text(_text("jobs", job_name), job_post_id=uuid4())
    job_vector = EMBEDDER.vector(job.embedding_text())
    rows = []
    for name in _resumes():
        text = _text("resumes", name)
        resume = parse_resume_text(text)
        breakdown = score_application(
            resume=resume,
            resume_text=text,
            resume_vector=EMBEDDER.vector(resume.embedding_text() or text),
            job=job,
            job_vector=job_vector,
            as_of=AS_OF,
        )
        rows.append((breakdown.total, name, breakdown))
    return sorted(rows, key=lambda row: -row[0])


def test_the_tables_name_real_files() -> None:
    assert EXTERNAL is not None
    jobs = {p.name for p in (EXTERNAL / "jobs").iterdir() if p.suffix in {".txt", ".pdf"}}
    assert set(MATCHES) == jobs
    resumes = set(_resumes())
    assert resumes >= OUTSIDE_TECH and all(m <= resumes for m in MATCHES.values())


@pytest.mark.parametrize("job", sorted(PAIRS))
def test_each_paired_resume_ranks_first_for_its_job(job: str) -> None:
    ranking = _ranking(job)
    print(f"\n{job}: " + ", ".join(f"{name} {total:.1f}" for total, name, _ in ranking[:3]))
    assert ranking[0][1] == PAIRS[job], ranking[:3]


@pytest.mark.parametrize("job", sorted(MATCHES))
def test_the_best_match_beats_the_best_unrelated_resume_by_15_points(job: str) -> None:
    ranking = _ranking(job)
    best_match = max(total for total, name, _ in ranking if name in MATCHES[job])
    best_unrelated = max(total for total, name, _ in ranking if name in OUTSIDE_TECH)
    assert best_match - best_unrelated >= 15, (best_match, best_unrelated)


def test_the_embedder_rates_pairs_closer_than_unrelated_resumes() -> None:
    related, unrelated = [], []
    for job, matches in MATCHES.items():
        for _, name, breakdown in _ranking(job):
            if name in matches:
                related.append(breakdown.similarity)
            elif name in OUTSIDE_TECH:
                unrelated.append(breakdown.similarity)
    mean_related = sum(related) / len(related)
    mean_unrelated = sum(unrelated) / len(unrelated)
    print(f"\nsimilarity: related {mean_related:.3f}, unrelated {mean_unrelated:.3f}")
    assert mean_related >= 2 * mean_unrelated
    assert min(related) > sorted(unrelated)[len(unrelated) // 2]  # above the unrelated median
