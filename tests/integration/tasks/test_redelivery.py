"""kill -9 mid-stage: the stage is done again elsewhere, and its event is still stored once.

A whole worker killed leaves its message unacked in the broker; another worker hands it out again
once it is older than the visibility timeout. A prefork child killed is noticed by its parent,
which re-sends the task as a retry (Celery 5.7's ``task_retry_on_worker_lost``).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from uuid import UUID

import pytest

from tests.integration.tasks.conftest import SUCCESS_TYPES, Site

pytestmark = pytest.mark.integration

PARSE_SECONDS = 2.5


async def _parse_taken(site: Site, application_id: UUID, *, within: float = 10.0) -> None:
    """Wait until the parse message is out of the queue and unacked: a worker is running it."""
    await site.wait_for(application_id, "application.text_extracted")
    broker = await site.broker()
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            queued = await broker.llen(site.settings.workers.queue)
            unacked = [json.loads(raw)[0] for raw in await broker.hvals("unacked")]
            stages = [m["headers"]["argsrepr"] for m in unacked]
            if queued == 0 and any("'parse'" in args for args in stages):
                return
            await asyncio.sleep(0.02)
    finally:
        await broker.aclose()
    raise TimeoutError(f"parse never taken\n{site.logs()}")


async def test_a_killed_worker_s_stage_is_redone_by_another_with_its_event_once(
    site: Site,
) -> None:
    site.cloud.configure(gemini=PARSE_SECONDS)
    first = site.worker("a")
    (app,) = await site.submit(1)
    site.dispatch([app])
    await _parse_taken(site, app)
    await asyncio.sleep(0.3)  # well inside the parse call

    first.kill9()
    killed_at = time.monotonic()
    assert (await site.types(app))[-1] == "application.text_extracted"

    site.cloud.configure(gemini=0.2)
    site.worker(
        "b",
        visibility_timeout=3,
        stage_timeout_seconds=1.0,
        task_soft_time_limit=1.5,
        task_time_limit=2,
        retry_max_seconds=0.5,
        textract_poll_seconds=0.5,
    )
    (history,) = (await site.wait_terminal([app], within=30)).values()
    recovered_after = time.monotonic() - killed_at

    assert [e.type for e in history] == list(SUCCESS_TYPES)
    assert 2.0 < recovered_after < 15.0  # not before the visibility timeout (3 s since delivery)


async def test_a_killed_prefork_child_s_task_is_sent_again_as_a_retry(site: Site) -> None:
    site.cloud.configure(gemini=PARSE_SECONDS)
    worker = site.worker("p", pool="prefork", concurrency=1)
    (app,) = await site.submit(1)
    site.dispatch([app])
    await _parse_taken(site, app)
    await asyncio.sleep(0.3)
    (child,) = worker.children()

    os.kill(child, signal.SIGKILL)
    assert (await site.types(app))[-1] == "application.text_extracted"
    (history,) = (await site.wait_terminal([app], within=30)).values()

    assert [e.type for e in history] == list(SUCCESS_TYPES)
    assert worker.process.poll() is None  # the parent lived on, with a new child
    assert child not in worker.children()
    output = worker.output()
    assert "WorkerLostError" in output and "retry: Retry in 0.5s" in output
