"""What a stage task sends next (tasks/stages.run_one), on in-memory ports: no broker needed."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any
from uuid import UUID, uuid4

from resumeflow.bootstrap.celery import Dispatch
from resumeflow.domain.application import Status
from resumeflow.domain.errors import StageError, StagePending
from resumeflow.domain.events import Stage
from resumeflow.pipeline.services import RetryPolicy, Services
from resumeflow.pipeline.stages import load_state, run_stage
from resumeflow.pipeline.submit import SubmitApplication, submit_application
from resumeflow.tasks.stages import run_one
from tests.doubles import JOB, make_services

RESUME = b"Grace Hopper\ngrace@navy.example\nPython and SQL since 2015\n"


async def submitted(services: Services, count: int = 1) -> list[UUID]:
    command = SubmitApplication(
        job_post_id=JOB.id, email="grace@navy.example", name="Grace", filename="g.txt", data=RESUME
    )
    return [(await submit_application(services, command)).application_id for _ in range(count)]


async def stored(services: Services, count: int = 1) -> list[UUID]:
    ids = await submitted(services, count)
    for app in ids:
        await run_stage(services, app, Stage.STORE)
    return ids


async def plan(services: Services, stage: Stage, app: UUID, **polling: Any) -> Dispatch | None:
    _, message = await run_one(services, stage, app, **polling)
    return message


async def test_done_sends_the_next_stage_at_once() -> None:
    services = await make_services()
    (app,) = await submitted(services)

    assert await plan(services, Stage.STORE, app) == Dispatch(Stage.EXTRACT, app, 0.0, 0)


async def test_score_runs_complete_inline_and_sends_nothing() -> None:
    services = await make_services()
    (app,) = await submitted(services)
    for stage in (Stage.STORE, Stage.EXTRACT, Stage.PARSE, Stage.EMBED):
        await run_stage(services, app, stage)

    assert await plan(services, Stage.SCORE, app) is None
    state, _ = await load_state(services, app)
    assert state.status is Status.COMPLETED


async def test_a_retryable_failure_sends_the_same_stage_after_a_bucketed_backoff() -> None:
    services = await make_services([StageError("throttled", retryable=True)])
    services = replace(services, retry=RetryPolicy(max_attempts=3, base_seconds=2, max_seconds=2))
    (app,) = await stored(services)

    message = await plan(services, Stage.EXTRACT, app)

    assert message is not None
    assert (message.stage, message.application_id, message.polls) == (Stage.EXTRACT, app, 0)
    assert 0.0 <= message.countdown <= 2.0
    assert round(message.countdown * 10, 6).is_integer()  # 100 ms buckets
    state, last = await load_state(services, app)
    assert last.type == "application.stage_failed" and state.next_stage is Stage.EXTRACT


async def test_pending_re_polls_after_the_adapter_s_delay_with_the_poll_count_raised() -> None:
    services = await make_services([StagePending("job running", 0.25)])
    (app,) = await stored(services)

    message = await plan(services, Stage.EXTRACT, app, polls=4, max_polls=10)

    assert message == Dispatch(Stage.EXTRACT, app, countdown=0.3, polls=5)
    assert (await load_state(services, app))[1].type == "application.stored"  # nothing recorded


async def test_pending_past_max_polls_sends_nothing_and_leaves_it_to_the_sweeper() -> None:
    services = await make_services([StagePending("job running", 0.25)])
    (app,) = await stored(services)

    assert await plan(services, Stage.EXTRACT, app, polls=10, max_polls=10) is None
    state, _ = await load_state(services, app)
    assert not state.is_terminal and state.next_stage is Stage.EXTRACT


async def test_skipped_and_failed_and_unknown_send_nothing() -> None:
    services = await make_services([StageError("unsupported", retryable=False)])
    (done,) = await stored(services)  # STORE already done: a redelivered message is SKIPPED
    (early,) = await submitted(services)  # PARSE is not due yet: SKIPPED too
    (failing,) = await stored(services)

    assert await plan(services, Stage.STORE, done) is None
    assert await plan(services, Stage.PARSE, early) is None
    assert await plan(services, Stage.EXTRACT, failing) is None
    assert await plan(services, Stage.STORE, uuid4()) is None
    state, _ = await load_state(services, failing)
    assert state.status is Status.FAILED


async def test_a_redelivered_message_whose_stage_is_done_sends_the_stage_due_now() -> None:
    services = await make_services()
    (app,) = await stored(services)  # its worker stored the file, then died before sending

    _, message = await run_one(services, Stage.STORE, app, redelivered=True)

    assert message == Dispatch(Stage.EXTRACT, app, 0.0, 0)
    (ended,) = await submitted(services)
    for stage in (Stage.STORE, Stage.EXTRACT, Stage.PARSE, Stage.EMBED, Stage.SCORE):
        await run_stage(services, ended, stage)
    await run_stage(services, ended, Stage.COMPLETE)
    assert (await run_one(services, Stage.SCORE, ended, redelivered=True))[1] is None  # ended


async def test_a_run_past_the_soft_limit_is_cancelled_and_its_stage_sent_again() -> None:
    services = await make_services()
    (app,) = await stored(services)
    hang = asyncio.Event()
    read = services.events.read

    async def hung_read(application_id: UUID, *, after_version: int = 0) -> Any:
        await hang.wait()  # the log stops answering
        return await read(application_id, after_version=after_version)

    services.events.read = hung_read  # type: ignore[method-assign]
    result, message = await run_one(services, Stage.EXTRACT, app, polls=2, soft_limit=0.05)

    assert result is None
    assert message is not None and (message.stage, message.polls) == (Stage.EXTRACT, 3)
    services.events.read = read  # type: ignore[method-assign]
    state, _ = await load_state(services, app)
    assert state.next_stage is Stage.EXTRACT and state.attempts == 0
