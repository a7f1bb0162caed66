"""The use cases on in-memory ports: submit, run a stage, fail, retry, replay."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from uuid import UUID, uuid4

import pytest

from resumeflow.domain.application import Status
from resumeflow.domain.errors import (
    IllegalTransition,
    StageError,
    StagePending,
    UnknownJobPost,
    UploadRejected,
)
from resumeflow.domain.events import Stage
from resumeflow.domain.jobs import JobPost
from resumeflow.domain.ports import JobPostRepository
from resumeflow.domain.resume import ParsedResume
from resumeflow.pipeline.operator import replay, retry_application
from resumeflow.pipeline.runner import drive
from resumeflow.pipeline.services import RetryPolicy, Services
from resumeflow.pipeline.stages import Outcome, run_stage
from resumeflow.pipeline.submit import SubmitApplication, submit_application
from tests.doubles import JOB, PlainTextExtractor, make_services

RESUME = b"Grace Hopper\ngrace@navy.example\nPython and SQL since 2015\n"


def command(**changes: object) -> SubmitApplication:
    """A valid submission, with ``changes`` applied."""
    fields: dict[str, object] = {
        "job_post_id": JOB.id,
        "email": "grace@navy.example",
        "name": "Grace Hopper",
        "filename": "../../etc/passwd",
        "data": RESUME,
    }
    return SubmitApplication.model_validate(fields | changes)


async def types_of(services: Services, app: object) -> list[str]:
    return [e.type for e in await services.events.read(app)]  # type: ignore[arg-type]


async def test_a_submitted_application_runs_to_completed_with_each_stage_once() -> None:
    services = await make_services()
    app = (await submit_application(services, command())).application_id
    state = await drive(services, app)
    assert state.status is Status.COMPLETED
    assert await types_of(services, app) == [
        "application.received",
        "application.stored",
        "application.text_extracted",
        "application.parsed",
        "application.embedded",
        "application.scored",
        "application.completed",
    ]
    assert state.resume is not None and state.resume.name == "Grace Hopper"
    assert state.score is not None and state.score.missing_skills == ("Kafka",)
    assert state.blob_key is not None and "passwd" not in state.blob_key


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"data": b""}, "empty_file"),
        ({"data": b"\x00\x01binary"}, "unsupported_format"),
        ({"data": b"PK\x03\x04not a zip"}, "unsupported_format"),
        ({"email": "nope"}, "invalid_email"),
    ],
)
async def test_bad_uploads_are_refused_and_nothing_is_kept(
    changes: dict[str, object], reason: str
) -> None:
    services = await make_services()
    with pytest.raises(UploadRejected) as refused:
        await submit_application(services, command(**changes))
    assert refused.value.reason == reason
    assert (await services.events.read_feed()).events == ()


async def test_an_oversized_upload_is_refused() -> None:
    services = await make_services()
    services.max_upload_bytes = 10
    with pytest.raises(UploadRejected, match="file_too_large"):
        await submit_application(services, command())


async def test_an_unknown_job_post_is_refused() -> None:
    services = await make_services()
    with pytest.raises(UnknownJobPost):
        await submit_application(services, command(job_post_id=uuid4()))


async def test_a_stage_not_due_is_a_no_op() -> None:
    services = await make_services()
    app = (await submit_application(services, command())).application_id
    result = await run_stage(services, app, Stage.PARSE)
    assert result.outcome is Outcome.SKIPPED
    assert await types_of(services, app) == ["application.received"]


async def test_a_stage_run_twice_at_once_is_recorded_once() -> None:
    services = await make_services()
    app = (await submit_application(services, command())).application_id
    await run_stage(services, app, Stage.STORE)
    results = await asyncio.gather(*(run_stage(services, app, Stage.EXTRACT) for _ in range(5)))
    assert Counter(r.outcome for r in results) == {Outcome.DONE: 1, Outcome.SKIPPED: 4}
    assert (await types_of(services, app)).count("application.text_extracted") == 1


async def test_transient_failures_are_recorded_per_attempt_then_succeed() -> None:
    timeout = StageError("timeout", "read timed out", retryable=True)
    services = await make_services([timeout, timeout])
    app = (await submit_application(services, command())).application_id
    state = await drive(services, app)
    assert state.status is Status.COMPLETED
    failures = [
        e.payload for e in await services.events.read(app) if e.type.endswith("stage_failed")
    ]
    assert [(f.attempt, f.retryable, f.reason) for f in failures] == [  # type: ignore[attr-defined]
        (1, True, "timeout"),
        (2, True, "timeout"),
    ]


async def test_transient_failures_past_the_bound_fail_the_application() -> None:
    services = await make_services(
        [StageError("throttled", "429", retryable=True)] * 5, max_attempts=2
    )
    app = (await submit_application(services, command())).application_id
    state = await drive(services, app)
    assert (state.status, state.failure_stage, state.failure_reason) == (
        Status.FAILED,
        Stage.EXTRACT,
        "throttled",
    )
    assert "gave up after 2 attempts" in (state.failure_detail or "")
    assert isinstance(services.extractor, PlainTextExtractor) and services.extractor.calls == 2


async def test_a_permanent_failure_ends_failed_at_once() -> None:
    services = await make_services(
        [StageError("password_protected", "needs a password", retryable=False)]
    )
    app = (await submit_application(services, command())).application_id
    state = await drive(services, app)
    assert (state.status, state.failure_reason) == (Status.FAILED, "password_protected")
    assert (await types_of(services, app))[-2:] == [
        "application.stage_failed",
        "application.failed",
    ]


async def test_an_unexpected_exception_is_retried_then_fails_with_its_name() -> None:
    services = await make_services([ZeroDivisionError("boom")] * 3)
    app = (await submit_application(services, command())).application_id
    state = await drive(services, app)
    assert state.status is Status.FAILED and state.failure_reason == "unexpected_error"
    assert "ZeroDivisionError" in (state.failure_detail or "")


class _HungParser:
    """A parser whose call never answers (a remote API that accepted the request and hangs)."""

    name = "hung"

    async def parse(self, text: str) -> ParsedResume:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_a_stage_past_its_timeout_is_a_retryable_failure_then_fails_with_the_reason() -> None:
    services = await make_services()
    services.parser = _HungParser()
    services.stage_timeout = 0.05
    app = (await submit_application(services, command())).application_id
    state = await drive(services, app)
    assert (state.status, state.failure_stage, state.failure_reason) == (
        Status.FAILED,
        Stage.PARSE,
        "stage_timeout",
    )
    failures = [
        e.payload for e in await services.events.read(app) if e.type.endswith("stage_failed")
    ]
    assert [(f.attempt, f.reason) for f in failures] == [  # type: ignore[attr-defined]
        (1, "stage_timeout"),
        (2, "stage_timeout"),
        (3, "stage_timeout"),
    ]


class _DownOnce:
    """A job-post repository whose server refuses the first connection (a Postgres restart)."""

    def __init__(self, inner: JobPostRepository) -> None:
        self.inner, self.calls = inner, 0

    async def get(self, job_post_id: UUID) -> JobPost | None:
        self.calls += 1
        if self.calls == 1:
            raise ConnectionRefusedError(111, "Connection refused")
        return await self.inner.get(job_post_id)

    async def add(self, job: JobPost) -> None:
        await self.inner.add(job)

    async def embedding(self, job_post_id: UUID, key: str) -> tuple[float, ...] | None:
        return await self.inner.embedding(job_post_id, key)

    async def store_embedding(self, job_post_id: UUID, key: str, vector: Sequence[float]) -> None:
        await self.inner.store_embedding(job_post_id, key, vector)


async def test_a_server_outage_is_raised_for_the_caller_and_costs_no_attempt() -> None:
    services = await make_services()
    app = (await submit_application(services, command())).application_id
    for stage in (Stage.STORE, Stage.EXTRACT, Stage.PARSE, Stage.EMBED):
        await run_stage(services, app, stage)
    services.job_posts = _DownOnce(services.job_posts)
    services.is_outage = lambda error: isinstance(error, ConnectionError)

    with pytest.raises(ConnectionRefusedError):
        await run_stage(services, app, Stage.SCORE)

    assert "application.stage_failed" not in await types_of(services, app)
    assert (await drive(services, app)).status is Status.COMPLETED


async def test_pending_remote_work_records_nothing_and_keeps_its_request_token() -> None:
    services = await make_services(
        [StagePending("job running", 0.0), StagePending("job running", 0.0)]
    )
    app = (await submit_application(services, command())).application_id
    await run_stage(services, app, Stage.STORE)
    first = await run_stage(services, app, Stage.EXTRACT)
    assert first.outcome is Outcome.PENDING
    assert await types_of(services, app) == ["application.received", "application.stored"]
    await run_stage(services, app, Stage.EXTRACT)
    assert (await run_stage(services, app, Stage.EXTRACT)).outcome is Outcome.DONE
    assert isinstance(services.extractor, PlainTextExtractor)
    assert len(set(services.extractor.tokens)) == 1


async def test_a_failed_application_can_be_retried_to_completion_and_replayed() -> None:
    services = await make_services([StageError("unreadable", "corrupt", retryable=False)])
    app = (await submit_application(services, command())).application_id
    assert (await drive(services, app)).status is Status.FAILED
    retried = await retry_application(services, app, reason="re-uploaded")
    assert retried.next_stage is Stage.EXTRACT
    assert (await drive(services, app)).status is Status.COMPLETED
    steps = await replay(services, app)
    assert [s.status.value for _, s in steps] == [
        "received",
        "stored",
        "stage_failed",
        "failed",
        "retried",
        "text_extracted",
        "parsed",
        "embedded",
        "scored",
        "completed",
    ]
    with pytest.raises(IllegalTransition):
        await retry_application(services, app)


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    policy = RetryPolicy(base_seconds=1, max_seconds=10)
    assert [policy.delay(n, rng=lambda: 1.0) for n in (1, 2, 3, 4, 5)] == [1, 2, 4, 8, 10]
    assert policy.delay(3, rng=lambda: 0.0) == 0
