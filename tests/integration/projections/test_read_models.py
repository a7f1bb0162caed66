"""Every event type, on both backends: the rows the read models hold, stated literally.

The same histories go through the embedded mode (SQLite, projections inside each append) and
the distributed mode (Redis Streams, the FastStream projector, Postgres). What each row must
hold is written out below, column by column, not computed by the code under test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.bootstrap.settings import Settings
from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import upgrade
from resumeflow.database.tables import stage_timings
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
from resumeflow.eventstore.sql import SqlEventStore
from resumeflow.projections.catalog import read_models
from resumeflow.projections.inline import InlineProjections
from tests.integration.projections.helpers import live_rows, running, store_of, wait_for

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 2, 9, 0, 0, tzinfo=UTC)
JOB = UUID("018f0000-0000-7000-8000-00000000000a")
HAPPY = UUID("018f0000-0000-7000-8000-000000000001")
RECOVERED = UUID("018f0000-0000-7000-8000-000000000002")
FAILED = UUID("018f0000-0000-7000-8000-000000000003")
RETRIED = UUID("018f0000-0000-7000-8000-000000000004")
WAITING = UUID("018f0000-0000-7000-8000-000000000005")

KEY = UUID("018f0000-0000-7000-8000-00000000000b")
RESUME = ParsedResume(name="Grace Hopper", email="grace@example.org", skills=("COBOL",))
BREAKDOWN = ScoreBreakdown(
    total=72.5,
    similarity=0.61,
    skill_coverage=0.5,
    experience=1.0,
    matched_skills=("COBOL",),
    missing_skills=("Fortran",),
    years_experience=30.0,
    required_years=5.0,
    weights=ScoreWeights(),
)


def _received(n: int) -> ApplicationReceived:
    return ApplicationReceived(
        submitted_by=KEY if n == 1 else None,
        job_post_id=JOB,
        email=f"grace{n}@example.org",
        name="Grace Hopper",
        filename=f"grace{n}.pdf",
        declared_content_type="application/pdf",
        format=DocumentFormat.PDF,
        size_bytes=2048,
        sha256="a" * 64,
        inbox_key="sha256/aa/" + "a" * 64,
    )


STORED = FileStored(blob_key="sha256/aa/" + "a" * 64, sha256="a" * 64, size_bytes=2048, store="fs")
EXTRACTED = TextExtracted(
    text="Grace Hopper\ngrace@example.org\nCOBOL",
    pages=(
        PageSummary(number=1, source=TextSource.TEXT_LAYER, chars=30),
        PageSummary(number=2, source=TextSource.OCR, chars=5),
    ),
    extractor="local",
)

# (application, [(seconds after T0, payload)])
CASES: dict[UUID, list[tuple[int, EventPayload]]] = {
    HAPPY: [
        (0, _received(1)),
        (2, STORED),
        (5, EXTRACTED),
        (9, ResumeParsed(resume=RESUME, parser="local")),
        (14, ResumeEmbedded(vector=(0.6, 0.8), model="hash", model_version="2")),
        (20, ApplicationScored(job_post_id=JOB, breakdown=BREAKDOWN)),
        (27, ApplicationCompleted()),
    ],
    RECOVERED: [
        (0, _received(2)),
        (1, STORED),
        (3, StageFailed(stage=Stage.EXTRACT, attempt=1, retryable=True, reason="ocr_busy")),
        (8, EXTRACTED),
    ],
    FAILED: [
        (0, _received(3)),
        (1, STORED),
        (
            2,
            StageFailed(
                stage=Stage.EXTRACT, attempt=1, retryable=False, reason="unreadable", detail="xref"
            ),
        ),
        (2, ApplicationFailed(stage=Stage.EXTRACT, reason="unreadable", detail="xref")),
    ],
    RETRIED: [
        (0, _received(4)),
        (1, STORED),
        (2, StageFailed(stage=Stage.EXTRACT, attempt=1, retryable=False, reason="unreadable")),
        (2, ApplicationFailed(stage=Stage.EXTRACT, reason="unreadable")),
        (60, ApplicationRetried(reason="re-uploaded", requested_by="ops")),
    ],
    WAITING: [
        (0, _received(5)),
        (4, StageFailed(stage=Stage.STORE, attempt=1, retryable=True, reason="s3", detail="503")),
    ],
}


def _histories() -> dict[UUID, list[EventEnvelope]]:
    return {
        app: [
            EventEnvelope.new(
                application_id=app,
                version=n,
                payload=payload,
                occurred_at=T0 + timedelta(seconds=seconds),
            )
            for n, (seconds, payload) in enumerate(steps, start=1)
        ]
        for app, steps in CASES.items()
    }


def _at(seconds: int) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def _expected(histories: dict[UUID, list[EventEnvelope]]) -> dict[UUID, dict[str, Any]]:
    def base(app: UUID, n: int, version: int, last: int) -> dict[str, Any]:
        return {
            "id": app,
            "job_post_id": JOB,
            "email": f"grace{n}@example.org",
            "name": "Grace Hopper",
            "filename": f"grace{n}.pdf",
            "format": "pdf",
            "size_bytes": 2048,
            "sha256": "a" * 64,
            "inbox_key": "sha256/aa/" + "a" * 64,
            "blob_key": "sha256/aa/" + "a" * 64,
            "extracted_text": None,
            "page_count": None,
            "ocr_pages": None,
            "parsed": None,
            "json_resume": None,
            "parser": None,
            "embedded_value": None,
            "embedding_model": None,
            "score": None,
            "score_breakdown": None,
            "attempts": 0,
            "last_error": None,
            "awaiting_failure": 0,
            "failure_stage": None,
            "failure_reason": None,
            "failure_detail": None,
            "correlation_id": histories[app][0].event_id,
            "version": version,
            "created_at": _at(0),
            "updated_at": _at(last),
            "submitted_by": KEY if n == 1 else None,
        }

    text = "Grace Hopper\ngrace@example.org\nCOBOL"
    return {
        HAPPY: base(HAPPY, 1, 7, 27)
        | {
            "status": "completed",
            "next_stage": None,
            "extracted_text": text,
            "page_count": 2,
            "ocr_pages": 1,
            "parsed": RESUME.model_dump(mode="json"),
            "json_resume": RESUME.to_json_resume(),
            "parser": "local",
            "embedded_value": [0.6, 0.8],
            "embedding_model": "hash@2",
            "score": 72.5,
            "score_breakdown": BREAKDOWN.model_dump(mode="json"),
        },
        RECOVERED: base(RECOVERED, 2, 4, 8)
        | {
            "status": "text_extracted",
            "next_stage": "parse",
            "extracted_text": text,
            "page_count": 2,
            "ocr_pages": 1,
        },
        FAILED: base(FAILED, 3, 4, 2)
        | {
            "status": "failed",
            "next_stage": None,
            "attempts": 1,
            "last_error": "unreadable: xref",
            "failure_stage": "extract",
            "failure_reason": "unreadable",
            "failure_detail": "xref",
        },
        RETRIED: base(RETRIED, 4, 5, 60)
        | {"status": "retried", "next_stage": "extract", "attempts": 0, "last_error": None},
        WAITING: base(WAITING, 5, 2, 4)
        | {
            "status": "stage_failed",
            "next_stage": "store",
            "blob_key": None,
            "attempts": 1,
            "last_error": "s3: 503",
        },
    }


def _timing(app: UUID, stage: str, start: int, end: int) -> tuple[tuple[UUID, str], dict[str, Any]]:
    row = {
        "application_id": app,
        "stage": stage,
        "started_at": _at(start),
        "finished_at": _at(end),
        "duration_ms": (end - start) * 1000.0,
    }
    return (app, stage), row


EXPECTED_TIMINGS = dict(
    [
        _timing(HAPPY, "store", 0, 2),
        _timing(HAPPY, "extract", 2, 5),
        _timing(HAPPY, "parse", 5, 9),
        _timing(HAPPY, "embed", 9, 14),
        _timing(HAPPY, "score", 14, 20),
        _timing(HAPPY, "complete", 20, 27),
        _timing(RECOVERED, "store", 0, 1),
        _timing(RECOVERED, "extract", 3, 8),  # due again from the failed attempt on
        _timing(FAILED, "store", 0, 1),
        _timing(RETRIED, "store", 0, 1),
    ]
)


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'embedded.db'}")
    await upgrade(engine)
    yield engine
    await engine.dispose()


async def test_the_embedded_mode_keeps_exactly_these_rows(sqlite_engine: AsyncEngine) -> None:
    store = SqlEventStore(sqlite_engine, inline=InlineProjections(read_models()))
    histories = _histories()
    for app, history in histories.items():
        for event in history:  # one append per event, as the pipeline appends them
            await store.append(app, [event], expected_version=event.version - 1)
    assert await live_rows(sqlite_engine) == _expected(histories)
    assert await live_rows(sqlite_engine, stage_timings) == EXPECTED_TIMINGS


async def test_the_projector_keeps_exactly_these_rows(
    engine: AsyncEngine, redis: Redis, settings: Settings
) -> None:
    store = store_of(redis, settings)
    histories = _histories()
    for app, history in histories.items():
        await store.append(app, history[:2], expected_version=0)
    async with running(settings):
        for app, history in histories.items():
            for event in history[2:]:
                await store.append(app, [event], expected_version=event.version - 1)
        want = _expected(histories)

        async def projected() -> bool:
            return await live_rows(engine) == want

        await wait_for(projected)
    assert await live_rows(engine, stage_timings) == EXPECTED_TIMINGS
