"""The HTTP API in the distributed mode: the API, a Celery worker and the projector as processes
on a real redis-server and Postgres, over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from redis import Redis

from tests.conftest import EXTERNAL, REPO_ROOT, needs_shared, shared_resumes
from tests.e2e.harness import Keys, resumeflow
from tests.e2e.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

RESUME = (REPO_ROOT / "examples" / "resume.pdf").read_bytes()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("stack"), RESUMEFLOW_LOG_FORMAT="json")
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def keys(stack: Stack) -> Keys:
    return stack.make_keys()


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=30) as http:
        yield http


def _post(client: httpx.Client, keys: Keys, title: str, description: str) -> str:
    answer = client.post(
        "/v1/job-posts",
        json={"title": title, "description": description},
        headers=keys.auth(keys.operator),
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _submit(client: httpx.Client, key: str, post: str, data: bytes, name: str) -> httpx.Response:
    return client.post(
        "/v1/applications",
        files={"file": (name, data, "application/octet-stream")},
        data={"name": "Applicant", "email": "applicant@example.org", "job_post_id": post},
        headers={"Authorization": f"Bearer {key}"},
    )


def _ended(client: httpx.Client, keys: Keys, ids: list[str], within: float) -> dict[str, Any]:
    deadline = time.monotonic() + within
    done: dict[str, Any] = {}
    while time.monotonic() < deadline and len(done) < len(ids):
        for application_id in ids:
            if application_id in done:
                continue
            body = client.get(
                f"/v1/applications/{application_id}", headers=keys.auth(keys.reader)
            ).json()
            if body["status"] in ("completed", "failed"):
                done[application_id] = body
        time.sleep(0.5)
    missing = [i for i in ids if i not in done]
    assert not missing, f"{len(missing)} of {len(ids)} did not end within {within} s"
    return done


@needs_shared
def test_every_shared_resume_is_accepted_and_followed_to_its_end(
    client: httpx.Client, keys: Keys
) -> None:
    assert EXTERNAL is not None
    job = (EXTERNAL / "jobs" / "resume-matcher__jd_backend-eng.txt").read_text()
    post = _post(client, keys, "Backend Engineer", job)
    submitted: dict[str, str] = {}
    for path in shared_resumes():
        answer = _submit(client, keys.submitter, post, path.read_bytes(), path.name)
        assert answer.status_code == 202, (path.name, answer.text)
        submitted[answer.json()["id"]] = path.name
    first = next(iter(submitted))
    changes: list[str] = []
    with client.stream(
        "GET", f"/v1/applications/{first}/stream", headers=keys.auth(keys.submitter),
        timeout=300,
    ) as stream:  # fmt: skip
        for line in stream.iter_lines():
            if line.startswith("data:"):
                changes.append(json.loads(line[5:])["status"])
    assert changes[-1] in ("completed", "failed")
    ended = _ended(client, keys, list(submitted), within=600)
    completed = [i for i, body in ended.items() if body["status"] == "completed"]
    assert len(completed) == len(submitted), {
        submitted[i]: body["failure"] for i, body in ended.items() if body["status"] != "completed"
    }
    ranking = client.get(f"/v1/job-posts/{post}/ranking", headers=keys.auth(keys.reader)).json()
    assert {item["id"] for item in ranking["items"]} == set(submitted)
    page = client.get(
        "/v1/applications", params={"job_post_id": post, "limit": 7}, headers=keys.auth(keys.reader)
    ).json()
    assert len(page["items"]) == 7 and page["next_cursor"]


def test_a_failed_application_is_retried_and_a_dead_letter_redriven(
    stack: Stack, client: httpx.Client, keys: Keys
) -> None:
    post = _post(client, keys, "Backend Engineer", "Python, PostgreSQL, Redis")
    broken = _submit(client, keys.submitter, post, b"%PDF-1.4\n<< broken", "broken.pdf")
    application_id = broken.json()["id"]
    failed = _ended(client, keys, [application_id], within=120)[application_id]
    assert failed["status"] == "failed" and failed["failure"]["reason"] == "unreadable"
    retried = client.post(
        f"/v1/applications/{application_id}/retry", headers=keys.auth(keys.operator)
    )
    assert retried.status_code == 202, retried.text
    again = _ended(client, keys, [application_id], within=120)[application_id]
    assert again["version"] > failed["version"]
    line = client.get(
        f"/v1/applications/{application_id}/timeline", headers=keys.auth(keys.reader)
    ).json()
    types = [step["type"] for step in line["steps"]]
    assert types[:3] == ["application.received", "application.stored", "application.stage_failed"]
    assert "application.retried" in types
    runs = [step for step in line["steps"] if step["stage"]]
    assert runs and all(s["worker"] and s["waited_seconds"] >= 0 for s in runs)
    assert [s["attempt"] for s in runs if s["stage"] == "extract"] == [1, 1]  # tried again
    printed = resumeflow(["timeline", application_id], stack.env)
    assert "waiting" in printed and "stage_failed" in printed

    # a dead letter: an entry the projector cannot decode, put on the feed by hand
    redis = Redis.from_url(stack.redis_url)
    redis.xadd("rf:feed:0", {"wire": "1", "event_id": "not-an-event"})
    deadline = time.monotonic() + 60
    letters: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not letters:
        letters = client.get("/v1/dead-letters", headers=keys.auth(keys.operator)).json()["items"]
        time.sleep(0.5)
    assert letters and letters[0]["event_id"] is None
    redriven = client.post(
        f"/v1/dead-letters/{letters[0]['id']}/redrive", headers=keys.auth(keys.operator)
    )
    assert redriven.status_code == 202 and redriven.json()["redriven_at"]
    assert redis.xlen("rf:feed:0") >= 2  # fed again (and, still undecodable, it dies again)
    redis.close()


def test_the_api_reads_its_own_writes_before_the_projector_has_them(
    client: httpx.Client, keys: Keys
) -> None:
    post = _post(client, keys, "Backend Engineer", "Python")
    accepted = _submit(client, keys.submitter, post, RESUME, "resume.pdf").json()
    read = client.get(f"/v1/applications/{accepted['id']}", headers=keys.auth(keys.submitter))
    assert read.status_code == 200 and read.json()["id"] == accepted["id"]


def _metrics(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    samples = {}
    for family in text_string_to_metric_families(httpx.get(url, timeout=10).text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def _sum(samples: dict[Any, float], name: str, **labels: str) -> float:
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def test_every_process_counts_what_it_did_and_logs_one_json_line_per_stage_outcome(
    stack: Stack, client: httpx.Client, keys: Keys
) -> None:
    post = _post(client, keys, "Backend Engineer", "Python, PostgreSQL")
    ids = [
        _submit(client, keys.submitter, post, RESUME + f"\n%{n}".encode(), "r.pdf").json()["id"]
        for n in range(3)
    ]
    _ended(client, keys, ids, within=120)
    api = _metrics(f"{stack.url}/metrics")
    assert _sum(api, "resumeflow_applications_submitted_total", outcome="accepted") >= 3
    assert _sum(
        api, "resumeflow_http_request_duration_seconds_count",
        route="/v1/applications", method="POST", status="202",
    ) >= 3  # fmt: skip
    worker = _metrics(f"http://127.0.0.1:{stack.port('worker')}/metrics")
    assert (
        _sum(worker, "resumeflow_stage_duration_seconds_count", stage="parse", outcome="done") >= 3
    )
    assert _sum(worker, "resumeflow_applications_finished_total", status="completed") >= 3
    assert ("resumeflow_queue_length", frozenset({("queue", "resumeflow")})) in worker
    projector = _metrics(f"http://127.0.0.1:{stack.port('projector')}/metrics")
    assert _sum(projector, "resumeflow_projection_lag_seconds_count", group="projection") >= 21
    assert _sum(projector, "resumeflow_projected_events_total", group="projection") >= 21
    assert any(n == "resumeflow_projection_lag_entries" for n, _ in projector)

    lines = [json.loads(x) for x in stack.log("worker").read_text().splitlines()
             if x.startswith("{")]  # fmt: skip
    outcomes = [x for x in lines if x.get("application_id") == ids[0] and "stage" in x]
    assert {x["stage"] for x in outcomes} >= {"store", "extract", "parse", "embed", "score"}
    for line in outcomes:
        assert line["outcome"] in ("done", "retry", "pending", "failed", "skipped")
        assert line["attempt"] >= 1 and line["duration_ms"] >= 0
        assert "trace_id" in line  # None here: tracing is off (test_tracing.py checks it on)
    every_log = "".join(stack.log(n).read_text() for n in ("worker", "projector", "api"))
    assert "applicant@example.org" not in every_log and "Applicant" not in every_log
