"""``resumeflow stack``: up starts every process of the distributed mode, the API it started
completes an application submitted over HTTP, and down leaves nothing of it running."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from importlib.util import find_spec
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO_ROOT
from tests.e2e.harness import BIN, base_env, make_keys, resumeflow

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _running(pid: int) -> bool:
    """Alive and not a zombie (a dead child nobody has reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _port_free(port: int) -> bool:
    """Nothing listens: a server could bind it (connections in TIME_WAIT do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_stack_up_runs_an_application_through_every_process_and_down_stops_them_all(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = base_env(tmp_path / "data")
    request.addfinalizer(  # whatever failed: no process and no data left behind
        lambda: subprocess.run(
            [str(BIN), "stack", "down", "--purge"], env=env, capture_output=True, check=False
        )
    )
    up = resumeflow(["stack", "up", "--free-ports"], env, timeout=300)
    try:
        assert "stack up in" in up and "export RESUMEFLOW_DATA_DIR=" in up
        again = subprocess.run(
            [str(BIN), "stack", "up", "--free-ports"], env=env, capture_output=True, text=True,
            timeout=60, check=False,
        )  # fmt: skip
        assert again.returncode == 1 and "already runs" in again.stderr

        status = json.loads(resumeflow(["stack", "status", "--json"], env))
        names = ["redis", "postgres", "api", "worker", "projector", "beat"]
        names += ["flower"] if find_spec("flower") else []
        assert [p["name"] for p in status["processes"]] == names
        assert all(p["alive"] for p in status["processes"])
        assert [p["answering"] for p in status["processes"]] == [
            True, True, True, True, True, None, *([True] if find_spec("flower") else []),
        ]  # fmt: skip
        env |= status["env"]
        assert env["RESUMEFLOW_DATA_DIR"] == str(tmp_path / "data")
        api = next(p for p in status["processes"] if p["name"] == "api")
        keys = make_keys(env)
        with httpx.Client(base_url=f"http://127.0.0.1:{api['port']}", timeout=30) as http:
            post = http.post(
                "/v1/job-posts",
                json={"title": "Backend Engineer", "description": "Python, PostgreSQL, Redis"},
                headers=keys.auth(keys.operator),
            )
            assert post.status_code == 201, post.text
            accepted = http.post(
                "/v1/applications",
                files={
                    "file": ("resume.pdf", (REPO_ROOT / "examples" / "resume.pdf").read_bytes())
                },
                data={
                    "name": "Ada L",
                    "email": "ada@example.com",
                    "job_post_id": post.json()["id"],
                },
                headers=keys.auth(keys.submitter),
            )
            assert accepted.status_code == 202, accepted.text
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                state = http.get(
                    f"/v1/applications/{accepted.json()['id']}", headers=keys.auth(keys.reader)
                ).json()
                if state["status"] in ("completed", "failed"):
                    break
                time.sleep(0.5)
        assert state["status"] == "completed", state
        assert 0 < state["score"] <= 100
        worker_log = resumeflow(["stack", "logs", "worker", "--lines", "500"], env)
        assert accepted.json()["id"] in worker_log  # the worker ran its stages
    finally:
        down = resumeflow(["stack", "down"], env, timeout=300)
    assert down.splitlines()[0].split()[0] == names[-1]  # last started, first stopped
    assert down.splitlines()[-1].split()[0] == "redis"
    assert all(line.split()[-1] == "stopped" for line in down.splitlines()), down
    for process in status["processes"]:
        assert not _running(process["pid"]), process
        if process["port"] is not None:
            assert _port_free(process["port"]), process
    stack_dir = tmp_path / "data" / "stack"
    assert not (stack_dir / "state.json").exists()
    assert (stack_dir / "postgres" / "data" / "PG_VERSION").exists()  # the data stays
    assert (
        "no stack"
        in subprocess.run(
            [str(BIN), "stack", "status"], env=env, capture_output=True, text=True, check=False
        ).stderr
    )
    cluster = (stack_dir / "postgres").resolve()  # in the temp dir when we are root here
    resumeflow(["stack", "down", "--purge"], env)
    assert not stack_dir.exists() and not cluster.exists()


def test_stack_up_names_the_option_of_a_taken_port_and_starts_nothing(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [str(BIN), "stack", "up", "--api-port", str(port)],
            env=base_env(tmp_path / "data"), capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
    assert done.returncode == 1
    assert f"port {port} (api) is taken" in done.stderr and "--api-port" in done.stderr
    assert not (tmp_path / "data" / "stack" / "state.json").exists()
