"""Running one stage of one application: load, decide, call the port, append, checked.

Delivery is at-least-once everywhere, so ``run_stage`` is idempotent: a stage that is not due
(already done, or not yet reachable) is a no-op, and a rival that appended first turns our
append into a ConcurrencyConflict, which is reported as SKIPPED rather than retried.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from resumeflow.domain.application import ApplicationState, apply, fold
from resumeflow.domain.errors import ConcurrencyConflict, StageError, StagePending
from resumeflow.domain.events import (
    ApplicationCompleted,
    ApplicationFailed,
    ApplicationScored,
    EventEnvelope,
    EventPayload,
    FileStored,
    PageSummary,
    ResumeEmbedded,
    ResumeParsed,
    Stage,
    StageFailed,
    StageOutcome,
    StageRun,
    TextExtracted,
)
from resumeflow.domain.jobs import JobPost
from resumeflow.domain.ports import BlobNotFound, DocumentRef, Embedder
from resumeflow.domain.provenance import attribute, split_pages
from resumeflow.domain.scoring import score_application
from resumeflow.pipeline.services import Services

__all__ = [
    "Outcome",
    "StageResult",
    "job_embedding_key",
    "job_post_vector",
    "load_state",
    "run_stage",
]

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    DONE = "done"  # the stage's success event was appended
    SKIPPED = "skipped"  # not due, or another worker got there first
    PENDING = "pending"  # remote work still running; ask again after ``delay``
    RETRY = "retry"  # a retryable failure was recorded; run again after ``delay``
    FAILED = "failed"  # the application is now failed


@dataclass(frozen=True)
class StageResult:
    outcome: Outcome
    state: ApplicationState
    delay: float = 0.0
    attempt: int = 0
    """The attempt this run was at its stage (0: it did not run)."""

    @property
    def next_stage(self) -> Stage | None:
        return self.state.next_stage


async def load_state(
    services: Services, application_id: UUID
) -> tuple[ApplicationState, EventEnvelope]:
    history = await services.events.read(application_id)
    state = fold(history)
    if state is None:
        raise LookupError(f"no application {application_id}")
    return state, history[-1]


async def run_stage(services: Services, application_id: UUID, stage: Stage) -> StageResult:
    state, last = await load_state(services, application_id)
    if state.next_stage is not stage:
        return StageResult(Outcome.SKIPPED, state)
    run = StageRun(worker=services.worker, started_at=services.clock(), attempt=state.attempts + 1)
    try:
        async with asyncio.timeout(services.stage_timeout):
            payload = await _perform(services, state, stage)
    except TimeoutError:
        timeout = StageError(
            "stage_timeout", f"no answer within {services.stage_timeout} s", retryable=True
        )
        return await _record_failure(services, state, last, stage, timeout, run)
    except StagePending as pending:
        return StageResult(Outcome.PENDING, state, pending.retry_after_seconds, run.attempt)
    except StageError as error:
        return await _record_failure(services, state, last, stage, error, run)
    except Exception as error:  # a bug or an unforeseen fault: bounded retries, then failed
        if services.is_outage(error):
            raise  # not the application's fault: the task layer sends the stage again
        log.exception("stage %s of %s raised", stage, application_id)
        unexpected = StageError(
            "unexpected_error", f"{type(error).__name__}: {error}", retryable=True
        )
        return await _record_failure(services, state, last, stage, unexpected, run)
    return await _append(services, state, last, [payload], Outcome.DONE, run)


async def _perform(services: Services, state: ApplicationState, stage: Stage) -> EventPayload:
    if stage is Stage.STORE:
        try:
            data = await services.inbox.get(state.inbox_key)
        except BlobNotFound as missing:
            raise StageError(
                "upload_lost", "the parked upload is gone", retryable=False
            ) from missing
        ref = await services.blobs.put(data, content_type=state.format.media_type)
        if ref.sha256 != state.sha256:
            raise StageError("checksum_mismatch", f"stored {ref.sha256}", retryable=False)
        return FileStored(
            blob_key=ref.key,
            sha256=ref.sha256,
            size_bytes=ref.size_bytes,
            store=services.blobs.name,
        )
    if stage is Stage.EXTRACT:
        assert state.blob_key is not None  # guaranteed by the fold: stored precedes extract
        document = DocumentRef(
            blob_key=state.blob_key,
            format=state.format,
            size_bytes=state.size_bytes,
            sha256=state.sha256,
        )
        token = f"{state.application_id.hex}-{state.version}"
        extracted = await services.extractor.extract(document, request_token=token)
        if not extracted.text:
            raise StageError(
                "no_text", "no text found in the document, even by OCR", retryable=False
            )
        pages = tuple(
            PageSummary(
                number=p.number, source=p.source, chars=len(p.text), confidence=p.confidence
            )
            for p in extracted.pages
        )
        return TextExtracted(text=extracted.text, pages=pages, extractor=extracted.extractor)
    if stage is Stage.PARSE:
        assert state.text is not None
        resume = await services.parser.parse(state.text)
        return ResumeParsed(
            resume=attribute(resume, split_pages(state.text, state.pages)),
            parser=services.parser.name,
        )
    if stage is Stage.EMBED:
        assert state.resume is not None and state.text is not None
        [vector] = await services.embedder.embed([state.resume.embedding_text() or state.text])
        if len(vector) != services.embedder.dimension:
            raise StageError("bad_embedding", f"dimension {len(vector)}", retryable=False)
        return ResumeEmbedded(
            vector=vector, model=services.embedder.name, model_version=services.embedder.version
        )
    if stage is Stage.SCORE:
        assert state.resume is not None and state.text is not None and state.embedding is not None
        job = await services.job_posts.get(state.job_post_id)
        if job is None:
            raise StageError("job_post_missing", f"job post {state.job_post_id}", retryable=False)
        job_vector = await job_post_vector(services, job)
        breakdown = score_application(
            resume=state.resume,
            resume_text=state.text,
            resume_vector=state.embedding,
            job=job,
            job_vector=job_vector,
            as_of=services.clock().date(),
        )
        return ApplicationScored(job_post_id=job.id, breakdown=breakdown)
    return ApplicationCompleted()


def job_embedding_key(embedder: Embedder, job: JobPost) -> str:
    """What a stored post vector is valid for: this embedder (name, version, dimension) and the
    post's text as it sees it; a re-worded post or another model gets a new vector."""
    named = f"{embedder.name}\n{embedder.version}\n{embedder.dimension}\n{job.embedding_text()}"
    return hashlib.sha256(named.encode()).hexdigest()


async def job_post_vector(services: Services, job: JobPost) -> tuple[float, ...]:
    """The post's embedding, computed once per post and stored with it, so each application
    costs one embedding call (its resume's) rather than two.

    Two workers scoring a post's first applications at once may both compute it; they store the
    same vector under the same key, so the race costs one call and nothing else.
    """
    key = job_embedding_key(services.embedder, job)
    stored = await services.job_posts.embedding(job.id, key)
    if stored is not None:
        return stored
    [vector] = await services.embedder.embed([job.embedding_text()])
    if len(vector) != services.embedder.dimension:
        raise StageError("bad_embedding", f"job post: dimension {len(vector)}", retryable=False)
    await services.job_posts.store_embedding(job.id, key, vector)
    return vector


async def _record_failure(
    services: Services,
    state: ApplicationState,
    last: EventEnvelope,
    stage: Stage,
    error: StageError,
    run: StageRun,
) -> StageResult:
    attempt = run.attempt
    again = error.retryable and attempt < services.retry.max_attempts
    payloads: list[EventPayload] = [
        StageFailed(
            stage=stage, attempt=attempt, retryable=again, reason=error.reason, detail=error.detail
        )
    ]
    if again:
        result = await _append(services, state, last, payloads, Outcome.RETRY, run)
        delay = services.retry.delay(attempt)
        return StageResult(
            result.outcome,
            result.state,
            delay if result.outcome is Outcome.RETRY else 0.0,
            result.attempt,
        )
    detail = error.detail
    if error.retryable:
        detail = f"gave up after {attempt} attempts; last: {error.detail}"
    payloads.append(ApplicationFailed(stage=stage, reason=error.reason, detail=detail))
    return await _append(services, state, last, payloads, Outcome.FAILED, run)


async def _append(
    services: Services,
    state: ApplicationState,
    last: EventEnvelope,
    payloads: list[EventPayload],
    outcome: Outcome,
    run: StageRun,
) -> StageResult:
    traceparent = services.traceparent()
    now = services.clock()
    events = [
        EventEnvelope.new(
            application_id=state.application_id,
            version=state.version + offset,
            payload=payload.model_copy(update={"run": run})
            if isinstance(payload, StageOutcome)
            else payload,
            correlation_id=state.correlation_id,
            causation_id=last.event_id,
            traceparent=traceparent,
            occurred_at=now,
        )
        for offset, payload in enumerate(payloads, start=1)
    ]
    try:
        await services.events.append(state.application_id, events, expected_version=state.version)
    except ConcurrencyConflict:
        fresh, _ = await load_state(services, state.application_id)
        return StageResult(Outcome.SKIPPED, fresh)
    for event in events:
        state = apply(state, event)
    return StageResult(outcome, state, attempt=run.attempt)
