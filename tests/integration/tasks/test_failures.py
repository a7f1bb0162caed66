"""Failures on real workers: a permanent one ends ``failed`` once; a transient one is retried."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.integration.tasks.conftest import SUCCESS_TYPES, Site

pytestmark = pytest.mark.integration


async def test_a_lost_upload_fails_the_application_once_without_retries(site: Site) -> None:
    site.worker("w")
    (app,) = await site.submit(1)
    (received,) = await site.history(app)
    await site.runtime.services.inbox.delete(received.payload.inbox_key)  # type: ignore[attr-defined]
    site.dispatch([app])

    (history,) = (await site.wait_terminal([app])).values()
    await asyncio.sleep(1.0)  # time for a retry storm to show, if there were one

    assert await site.history(app) == history
    assert [e.type for e in history] == [
        "application.received",
        "application.stage_failed",
        "application.failed",
    ]
    failed, ended = history[1].payload, history[2].payload
    assert failed.model_dump(include={"stage", "attempt", "retryable", "reason"}) == {
        "stage": "store",
        "attempt": 1,
        "retryable": False,
        "reason": "upload_lost",
    }
    assert ended.model_dump(include={"stage", "reason"}) == {
        "stage": "store",
        "reason": "upload_lost",
    }
    broker = await site.broker()
    try:
        assert await broker.llen(site.settings.workers.queue) == 0
        assert await broker.hlen("unacked") == 0
    finally:
        await broker.aclose()


async def test_a_transient_fault_is_recorded_retried_and_then_completes(site: Site) -> None:
    site.worker("w", max_stage_attempts=5)
    (app,) = await site.submit(1)
    site.cloud.configure(s3_fault_rate=1.0)  # S3 answers 503 SlowDown to everything
    site.dispatch([app])

    await site.wait_for(app, "application.stage_failed")
    site.cloud.configure(s3_fault_rate=0.0)  # the fault clears
    (history,) = (await site.wait_terminal([app])).values()

    failures = [e.payload for e in history if e.type == "application.stage_failed"]
    assert failures, history
    first = failures[0].model_dump(include={"stage", "attempt", "retryable", "reason"})
    assert first == {
        "stage": "store",
        "attempt": 1,
        "retryable": True,
        "reason": "blob_store_unavailable",
    }
    assert [f.attempt for f in failures] == list(range(1, len(failures) + 1))  # type: ignore[attr-defined]
    assert history[-1].type == "application.completed"
    successes = Counter(e.type for e in history if e.type != "application.stage_failed")
    assert successes == Counter(SUCCESS_TYPES)
