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
from tests.e2e.harness import Keys
from tests.e2e.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

RESUME = (REPO_ROOT / "examples" / "resume.pdf").read_bytes()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("stack"))
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def keys(stack: Stack) -> Keys:
    assert stack.api is not None
    return stack.api.make_keys()


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[httpx.Client]:
    assert stack.api is not None
    with httpx.Client(base_url=stack.api.url, timeout=30) as http:
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

    # a dead letter: an entry the projector cannot decode, put on the feed by hand
    redis = Redis.from_url(stack.redis.url)
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
