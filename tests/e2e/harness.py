"""The API as a process (``resumeflow api``), its keys made with ``resumeflow keys create``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.servers import free_port

__all__ = ["ApiProcess", "Keys", "base_env", "make_keys", "resumeflow"]

BIN = Path(sys.executable).parent / "resumeflow"


def resumeflow(
    args: list[str], env: Mapping[str, str], *, check: bool = True, timeout: float = 120
) -> str:
    """Run a ``resumeflow`` command; its stdout."""
    done = subprocess.run(
        [str(BIN), *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"resumeflow {' '.join(args)}: {done.returncode}\n{done.stderr}")
    return done.stdout


@dataclass
class Keys:
    submitter: str
    reader: str
    operator: str
    other_submitter: str

    def auth(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}


@dataclass
class ApiProcess:
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(BIN), "api", "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the API exited:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the API is not ready after {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def make_keys(self) -> Keys:
        return make_keys(self.env)


def make_keys(env: Mapping[str, str]) -> Keys:
    """One key per role, made with ``resumeflow keys create`` against ``env``'s database."""

    def key(role: str, name: str) -> str:
        return resumeflow(["keys", "create", "--role", role, "--name", name], env).strip()

    return Keys(
        submitter=key("submitter", "portal"),
        reader=key("reader", "recruiter"),
        operator=key("operator", "ops"),
        other_submitter=key("submitter", "other portal"),
    )


def base_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a process of this test alone: no RESUMEFLOW_* from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESUMEFLOW_")}
    return env | {"RESUMEFLOW_DATA_DIR": str(data_dir), "OMP_THREAD_LIMIT": "1"} | extra
