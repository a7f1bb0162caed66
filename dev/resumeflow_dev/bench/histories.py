"""Legal application histories for benchmarks, interleaved the way a busy system appends them."""

from __future__ import annotations

from uuid import UUID, uuid4

from resumeflow.domain.documents import DocumentFormat, TextSource
from resumeflow.domain.events import (
    ApplicationCompleted,
    ApplicationReceived,
    ApplicationScored,
    EventEnvelope,
    EventPayload,
    FileStored,
    PageSummary,
    ResumeEmbedded,
    ResumeParsed,
    TextExtracted,
)
from resumeflow.domain.resume import ParsedResume
from resumeflow.domain.scoring import ScoreBreakdown, ScoreWeights

__all__ = ["IN_FLIGHT", "histories", "interleaved"]

IN_FLIGHT = 500
"""Applications in flight at once in an ``interleaved`` feed, unless told otherwise."""

_POST = UUID("00000000-0000-7000-8000-0000000000b1")
_TEXT = "Ada Lovelace\nada@example.org\nPython, SQL, Postgres\n" * 20


def _payloads(n: int) -> list[EventPayload]:
    sha = f"{n:064x}"
    return [
        ApplicationReceived(
            job_post_id=_POST, email=f"applicant{n}@example.org", name=f"Applicant {n}",
            filename=f"resume-{n}.pdf", format=DocumentFormat.PDF, size_bytes=50_000,
            sha256=sha, inbox_key=f"inbox/{sha}",
        ),
        FileStored(blob_key=f"sha256/{sha}", sha256=sha, size_bytes=50_000, store="bench"),
        TextExtracted(
            text=_TEXT,
            pages=(PageSummary(number=1, source=TextSource.TEXT_LAYER, chars=len(_TEXT)),),
            extractor="bench",
        ),
        ResumeParsed(
            resume=ParsedResume(name=f"Applicant {n}", email=f"applicant{n}@example.org",
                                skills=("Python", "SQL", "Postgres")),
            parser="bench",
        ),
        ResumeEmbedded(vector=tuple([0.0625] * 256), model="bench", model_version="1"),
        ApplicationScored(
            job_post_id=_POST,
            breakdown=ScoreBreakdown(
                total=float(n % 100), similarity=0.9, skill_coverage=1.0, experience=0.5,
                matched_skills=("Python",), missing_skills=(), years_experience=3.0,
                required_years=2.0, weights=ScoreWeights(),
            ),
        ),
        ApplicationCompleted(),
    ]  # fmt: skip


def histories(count: int) -> list[list[EventEnvelope]]:
    """``count`` complete happy-path histories (7 events each, 256-dimension embeddings)."""
    result = []
    for n in range(count):
        app = uuid4()
        result.append(
            [
                EventEnvelope.new(application_id=app, version=v, payload=p)
                for v, p in enumerate(_payloads(n), start=1)
            ]
        )
    return result


def interleaved(stories: list[list[EventEnvelope]], width: int = IN_FLIGHT) -> list[EventEnvelope]:
    """The events in append order with ``width`` applications in flight at any time."""
    order: list[EventEnvelope] = []
    for start in range(0, len(stories), width):
        group = stories[start : start + width]
        for version in range(max(len(h) for h in group)):
            order += [h[version] for h in group if version < len(h)]
    return order
