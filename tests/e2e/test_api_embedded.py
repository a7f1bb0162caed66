"""The HTTP API in the embedded mode (``resumeflow api`` with no servers), over real HTTP."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader, PdfWriter

from tests.conftest import REPO_ROOT
from tests.e2e.harness import ApiProcess, Keys, base_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

RESUME = (REPO_ROOT / "examples" / "resume.pdf").read_bytes()
JOB = (REPO_ROOT / "examples" / "job-backend-engineer.txt").read_text()
LIMIT = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProcess]:
    data = tmp_path_factory.mktemp("embedded")
    process = ApiProcess(
        base_env(
            data, RESUMEFLOW_MAX_UPLOAD_BYTES=str(LIMIT), RESUMEFLOW_RETRY_BASE_SECONDS="0.05"
        ),
        data / "api.log",
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def keys(api: ApiProcess) -> Keys:
    return api.make_keys()


@pytest.fixture(scope="module")
def client(api: ApiProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def job_post(client: httpx.Client, keys: Keys) -> dict[str, Any]:
    answer = client.post(
        "/v1/job-posts",
        json={"title": "Backend Engineer", "description": JOB},
        headers=keys.auth(keys.operator),
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _submit(
    client: httpx.Client,
    key: str,
    job_post_id: str,
    data: bytes,
    filename: str = "resume.pdf",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return client.post(
        "/v1/applications",
        files={"file": (filename, data, "application/octet-stream")},
        data={"name": "Ada Lovelace", "email": "ada@example.org", "job_post_id": job_post_id},
        headers={"Authorization": f"Bearer {key}", **(headers or {})},
    )


def _until_ended(client: httpx.Client, key: str, location: str, within: float = 120) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        body = client.get(location, headers={"Authorization": f"Bearer {key}"}).json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"{location} did not end within {within} s")


def _problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    assert body["type"] == f"https://resumeflow.dev/problems/{code}"
    assert body["status"] == status and body["title"]
    return body


def test_a_resume_goes_from_202_to_completed_and_is_followed_by_sse(
    client: httpx.Client, keys: Keys, job_post: dict[str, Any]
) -> None:
    answer = _submit(client, keys.submitter, job_post["id"], RESUME)
    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    assert accepted["status"] == "received" and accepted["repeated"] is False
    location = answer.headers["location"]
    assert location == f"/v1/applications/{accepted['id']}"
    seen: list[dict[str, Any]] = []
    with client.stream(
        "GET", f"{location}/stream", headers=keys.auth(keys.submitter), timeout=120
    ) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("data:"):
                seen.append(json.loads(line[5:]))
    statuses = [change["status"] for change in seen]
    assert statuses[-1] == "completed"
    assert [c["version"] for c in seen] == sorted({c["version"] for c in seen})  # each change once
    final = client.get(location, headers=keys.auth(keys.submitter)).json()
    assert final["status"] == "completed" and final["version"] == 7
    assert final["parsed"]["name"] and final["score"] is not None
    assert final["score_breakdown"]["total"] == final["score"]
    # RFC 3339 times carry their offset, in the embedded mode's SQLite too
    assert final["created_at"].endswith("Z") and seen[-1]["updated_at"].endswith("Z")


def test_an_idempotency_key_returns_the_first_answer_and_refuses_another_request(
    client: httpx.Client, keys: Keys, job_post: dict[str, Any]
) -> None:
    key = {"Idempotency-Key": "portal-42"}
    first = _submit(client, keys.submitter, job_post["id"], RESUME, headers=key)
    again = _submit(client, keys.submitter, job_post["id"], RESUME, headers=key)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again.json()["repeated"] is True
    other = _submit(client, keys.submitter, job_post["id"], RESUME + b"\n% other", headers=key)
    _problem(other, 409, "idempotency_key_reused")
    events = client.get(
        f"/v1/applications/{first.json()['id']}/events", headers=keys.auth(keys.reader)
    ).json()
    received = events["steps"][0]
    assert received["type"] == "application.received"
    assert received["payload"]["idempotency_key"] == "portal-42"
    # another submitter's same key is its own application
    theirs = _submit(client, keys.other_submitter, job_post["id"], RESUME, headers=key)
    assert theirs.status_code == 202 and theirs.json()["id"] != first.json()["id"]


def _docx(text: str) -> bytes:
    from docx import Document

    document = Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(RESUME)))
    writer.encrypt(user_password="s3cret", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_each_kind_of_bad_upload_gets_its_documented_answer(
    client: httpx.Client, keys: Keys, job_post: dict[str, Any]
) -> None:
    post = job_post["id"]
    _problem(_submit(client, keys.submitter, post, b""), 422, "empty_file")
    _problem(
        _submit(client, keys.submitter, post, b"%PDF" + b"0" * (LIMIT + 1)), 413, "file_too_large"
    )
    _problem(
        _submit(client, keys.submitter, post, b"PK\x03\x04 not a docx", "cv.zip"),
        415,
        "unsupported_format",
    )
    _problem(_submit(client, keys.submitter, post, b"hello", "fake.png"), 415, "format_mismatch")
    renamed = _submit(
        client, keys.submitter, post, _docx("Grace Hopper\ngrace@example.org\nCOBOL"), "cv.pdf"
    )
    assert renamed.status_code == 202, renamed.text
    done = _until_ended(client, keys.submitter, renamed.headers["location"])
    assert done["format"] == "docx" and done["status"] == "completed"
    for data, reason in (
        (b"%PDF-1.4\n1 0 obj\n<< broken", "unreadable"),
        (_encrypted_pdf(), "password_protected"),
    ):
        accepted = _submit(client, keys.submitter, post, data)
        assert accepted.status_code == 202, accepted.text
        ended = _until_ended(client, keys.submitter, accepted.headers["location"])
        assert ended["status"] == "failed" and ended["failure"]["reason"] == reason


def test_lists_filter_and_page_newest_first_and_the_ranking_orders_by_score(
    client: httpx.Client, keys: Keys, job_post: dict[str, Any]
) -> None:
    ids = [
        _submit(client, keys.submitter, job_post["id"], RESUME + f"\n% {n}".encode()).json()["id"]
        for n in range(5)
    ]
    for application_id in ids:
        _until_ended(client, keys.submitter, f"/v1/applications/{application_id}")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"job_post_id": job_post["id"], "status": "completed", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/applications", params=params, headers=keys.auth(keys.reader)).json()
        seen += [item["id"] for item in page["items"]]
        assert all(item["status"] == "completed" for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) and set(ids) <= set(seen)
    mine = [s for s in seen if s in ids]
    assert mine == list(reversed(ids))  # newest first
    ranking = client.get(
        f"/v1/job-posts/{job_post['id']}/ranking", headers=keys.auth(keys.reader)
    ).json()["items"]
    scores = [item["score"] for item in ranking]
    assert scores == sorted(scores, reverse=True) and len(scores) >= 5
    assert all(item["score_breakdown"]["total"] == item["score"] for item in ranking)
    _problem(
        client.get("/v1/applications", params={"cursor": "junk"}, headers=keys.auth(keys.reader)),
        422,
        "invalid_cursor",
    )


def test_replay_gives_the_state_at_any_version_and_a_failed_one_can_be_retried(
    client: httpx.Client, keys: Keys, job_post: dict[str, Any]
) -> None:
    accepted = _submit(client, keys.submitter, job_post["id"], b"%PDF-1.4\n<< broken again")
    location = accepted.headers["location"]
    failed = _until_ended(client, keys.submitter, location)
    assert failed["status"] == "failed"
    at_one = client.get(f"{location}/events", params={"version": 1}, headers=keys.auth(keys.reader))
    assert [s["type"] for s in at_one.json()["steps"]] == ["application.received"]
    _problem(client.post(f"{location}/retry", headers=keys.auth(keys.reader)), 403, "forbidden")
    retried = client.post(f"{location}/retry", headers=keys.auth(keys.operator))
    assert retried.status_code == 202, retried.text
    assert retried.json()["status"] == "retried"
    again = _until_ended(client, keys.submitter, location)
    assert again["status"] == "failed" and again["version"] > failed["version"]
    history = client.get(f"{location}/events", headers=keys.auth(keys.reader)).json()["steps"]
    assert "application.retried" in [s["type"] for s in history]
    _problem(client.delete(location, headers=keys.auth(keys.operator)), 405, "method_not_allowed")


def test_a_closed_post_refuses_submissions(client: httpx.Client, keys: Keys) -> None:
    post = client.post(
        "/v1/job-posts",
        json={"title": "Data Engineer", "description": "Python, SQL, Airflow"},
        headers=keys.auth(keys.operator),
    ).json()
    closed = client.post(f"/v1/job-posts/{post['id']}/close", headers=keys.auth(keys.operator))
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    _problem(_submit(client, keys.submitter, post["id"], RESUME), 409, "job_post_closed")


def test_who_may_do_what(client: httpx.Client, keys: Keys, job_post: dict[str, Any]) -> None:
    mine = _submit(client, keys.submitter, job_post["id"], RESUME + b"\n% mine").json()["id"]
    at = f"/v1/applications/{mine}"
    _problem(client.get(at), 401, "unauthenticated")
    _problem(client.get(at, headers=keys.auth("rfk_not-a-key")), 401, "unauthenticated")
    assert client.get(at, headers=keys.auth(keys.submitter)).status_code == 200
    _problem(client.get(at, headers=keys.auth(keys.other_submitter)), 404, "not_found")
    assert client.get(at, headers=keys.auth(keys.reader)).status_code == 200
    assert client.get(at, headers=keys.auth(keys.operator)).status_code == 200
    _problem(_submit(client, keys.reader, job_post["id"], RESUME), 403, "forbidden")
    assert _submit(client, keys.operator, job_post["id"], RESUME + b"\n% ops").status_code == 202
    _problem(
        client.post(
            "/v1/job-posts",
            json={"title": "x", "description": "y"},
            headers=keys.auth(keys.reader),
        ),
        403,
        "forbidden",
    )
    _problem(client.get("/v1/dead-letters", headers=keys.auth(keys.reader)), 403, "forbidden")
    assert client.get("/v1/dead-letters", headers=keys.auth(keys.operator)).json()["items"] == []
    own = client.get("/v1/applications", headers=keys.auth(keys.other_submitter)).json()
    assert mine not in [item["id"] for item in own["items"]]
    assert client.get("/healthz").status_code == 200
    assert client.get("/openapi.json").json()["openapi"].startswith("3.")


def test_no_personal_data_reaches_the_log(api: ApiProcess) -> None:
    log = Path(api.log).read_text()
    assert "ada@example.org" not in log and "Ada Lovelace" not in log
