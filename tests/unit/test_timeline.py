"""The timeline of an application that failed once and then went on: waits and work, per run."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from resumeflow.domain.documents import ExtractedText
from resumeflow.domain.errors import StageError
from resumeflow.domain.events import Stage
from resumeflow.domain.ports import DocumentRef
from resumeflow.pipeline.operator import timeline
from resumeflow.pipeline.stages import run_stage
from resumeflow.pipeline.submit import SubmitApplication, submit_application
from tests.doubles import JOB, PlainTextExtractor, make_services

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> None:
        self.now = T0 + timedelta(seconds=seconds)


class SlowExtractor(PlainTextExtractor):
    """Two seconds of work per call; the first call fails (a retryable fault)."""

    def __init__(self, inner: PlainTextExtractor, clock: Clock) -> None:
        super().__init__(inner._blobs, [StageError("ocr_busy", "try later", retryable=True)])
        self.clock = clock

    async def extract(self, document: DocumentRef, *, request_token: str) -> ExtractedText:
        self.clock.now += timedelta(seconds=2)
        return await super().extract(document, request_token=request_token)


async def test_each_run_is_split_into_its_wait_and_its_work() -> None:
    clock = Clock()
    services = await make_services()
    assert isinstance(services.extractor, PlainTextExtractor)
    services = replace(
        services, clock=clock, worker="w1:42", extractor=SlowExtractor(services.extractor, clock)
    )
    command = SubmitApplication(
        job_post_id=JOB.id, email="g@example.org", name="Grace", filename="g.txt",
        data=b"Grace Hopper\ng@example.org\nPython",
    )  # fmt: skip
    app = (await submit_application(services, command)).application_id  # received at 0
    clock.at(10)
    await run_stage(services, app, Stage.STORE)  # due at 0, begun at 10, done at 10
    clock.at(15)
    await run_stage(services, app, Stage.EXTRACT)  # begun at 15, failed at 17
    clock.at(20)
    await run_stage(services, app, Stage.EXTRACT)  # begun at 20, done at 22

    entries = await timeline(services, app)

    got = [
        (e.event.type, e.at_seconds, e.stage, e.worker, e.attempt, e.waited_seconds,
         e.worked_seconds)
        for e in entries
    ]  # fmt: skip
    assert got == [
        ("application.received", 0.0, None, None, None, None, None),
        ("application.stored", 10.0, Stage.STORE, "w1:42", 1, 10.0, 0.0),
        ("application.stage_failed", 17.0, Stage.EXTRACT, "w1:42", 1, 5.0, 2.0),
        ("application.text_extracted", 22.0, Stage.EXTRACT, "w1:42", 2, 3.0, 2.0),
    ]
