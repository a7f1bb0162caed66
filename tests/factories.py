"""Builders of legal events for tests: one place that knows what each payload needs."""

from __future__ import annotations

from uuid import UUID, uuid4

from resumeflow.domain.documents import DocumentFormat, TextSource
from resumeflow.domain.events import (
    ApplicationCompleted,
    ApplicationFailed,
    ApplicationReceived,
    ApplicationRetried,
    ApplicationScored,
    EventEnvelope,
    EventPayload,
    FileStored,
    PageSummary,
    ResumeEmbedded,
    ResumeParsed,
    Stage,
    StageFailed,
    TextExtracted,
)
from resumeflow.domain.resume import ParsedResume
from resumeflow.domain.scoring import ScoreBreakdown, ScoreWeights

JOB_POST_ID = UUID("00000000-0000-7000-8000-000000000001")


def received_payload(job_post_id: UUID = JOB_POST_ID) -> ApplicationReceived:
    return ApplicationReceived(
        job_post_id=job_post_id,
        email="ada@example.org",
        name="Ada Lovelace",
        filename="ada.pdf",
        declared_content_type="application/pdf",
        format=DocumentFormat.PDF,
        size_bytes=1234,
        sha256="0" * 64,
        inbox_key="sha256/00/" + "0" * 64,
    )


def success_payload(stage: Stage) -> EventPayload:
    """The success payload of ``stage``, with plausible values."""
    if stage is Stage.STORE:
        return FileStored(
            blob_key="sha256/00/" + "0" * 64, sha256="0" * 64, size_bytes=1234, store="memory"
        )
    if stage is Stage.EXTRACT:
        return TextExtracted(
            text="Ada Lovelace\nada@example.org\nPython",
            pages=(PageSummary(number=1, source=TextSource.TEXT_LAYER, chars=36),),
            extractor="test",
        )
    if stage is Stage.PARSE:
        return ResumeParsed(
            resume=ParsedResume(name="Ada Lovelace", email="ada@example.org", skills=("Python",)),
            parser="test",
        )
    if stage is Stage.EMBED:
        return ResumeEmbedded(vector=(0.6, 0.8), model="test", model_version="1")
    if stage is Stage.SCORE:
        return ApplicationScored(
            job_post_id=JOB_POST_ID,
            breakdown=ScoreBreakdown(
                total=80.0,
                similarity=0.9,
                skill_coverage=1.0,
                experience=0.5,
                matched_skills=("Python",),
                missing_skills=(),
                years_experience=1.0,
                required_years=2.0,
                weights=ScoreWeights(),
            ),
        )
    return ApplicationCompleted()


HAPPY_PATH = (Stage.STORE, Stage.EXTRACT, Stage.PARSE, Stage.EMBED, Stage.SCORE, Stage.COMPLETE)


def envelope(application_id: UUID, version: int, payload: EventPayload) -> EventEnvelope:
    return EventEnvelope.new(application_id=application_id, version=version, payload=payload)


def happy_history(application_id: UUID | None = None, *, stages: int = 6) -> list[EventEnvelope]:
    """received followed by the first ``stages`` success events."""
    app = application_id or uuid4()
    payloads: list[EventPayload] = [received_payload()]
    payloads += [success_payload(stage) for stage in HAPPY_PATH[:stages]]
    return [envelope(app, n, p) for n, p in enumerate(payloads, start=1)]


def failure_payloads(stage: Stage, attempt: int = 1) -> list[EventPayload]:
    return [
        StageFailed(stage=stage, attempt=attempt, retryable=False, reason="unreadable"),
        ApplicationFailed(stage=stage, reason="unreadable"),
    ]


def retried_payload() -> ApplicationRetried:
    return ApplicationRetried(reason="fixed upstream")
