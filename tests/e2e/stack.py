"""The distributed mode as processes, started and stopped by the real ``resumeflow stack up`` and
``resumeflow stack down`` (a subprocess each), on ports the OS picks, configured only through the
environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.harness import Keys, base_env, make_keys, resumeflow

__all__ = ["Stack"]


class Stack:
    """``resumeflow stack up --free-ports`` in ``tmp/data``; what it started, read back from
    ``resumeflow stack status --json``."""

    def __init__(self, tmp: Path, **env: str) -> None:
        self.tmp = tmp
        self.env = base_env(
            tmp / "data",
            RESUMEFLOW_CLAIM_IDLE_MS="2000",
            RESUMEFLOW_MAX_DELIVERIES="2",
            RESUMEFLOW_RETRY_BASE_SECONDS="0.05",
            RESUMEFLOW_WORKER_CONCURRENCY="8",
            **env,
        )
        self.processes: dict[str, dict[str, Any]] = {}

    def start(self) -> None:
        resumeflow(["stack", "up", "--free-ports", "--no-flower"], self.env, timeout=300)
        status = json.loads(resumeflow(["stack", "status", "--json"], self.env))
        self.env |= status["env"]  # the export line: this test's commands talk to the stack
        self.processes = {p["name"]: p for p in status["processes"]}

    def stop(self) -> None:
        resumeflow(["stack", "down", "--purge"], self.env, timeout=300)

    def port(self, name: str) -> int:
        port: int = self.processes[name]["port"]
        return port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port('api')}"

    @property
    def redis_url(self) -> str:
        return self.env["RESUMEFLOW_REDIS_URL"]

    def log(self, name: str) -> Path:
        return Path(self.processes[name]["log"])

    def make_keys(self) -> Keys:
        return make_keys(self.env)
