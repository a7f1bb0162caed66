"""The state of a running ``resumeflow stack``: what ``up`` started, and how to see and stop it.

``state.json`` in the stack directory records each process's pid, its kernel start time, port,
argv and log, and the ``RESUMEFLOW_*`` environment the stack's processes share; ``status``,
``logs``, ``env`` and ``down`` read it from any shell. A pid is only the stack's while its start
time is the recorded one, so a reused pid is never signalled.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from resumeflow.bootstrap.local_servers import PostgresCluster, redis_pong

__all__ = [
    "STATE",
    "Process",
    "StackError",
    "StackState",
    "alive",
    "answering",
    "load_state",
    "postgres_cluster",
    "purge",
    "stack_down",
    "start_time",
    "status",
]

STATE = "state.json"


class StackError(RuntimeError):
    """Why the stack cannot start or be found; the message is for the operator."""


@dataclass
class Process:
    name: str
    pid: int
    started: int | None  # the kernel's start time (clock ticks since boot), None off Linux
    argv: list[str]
    log: str
    port: int | None = None


@dataclass
class StackState:
    directory: str
    data_dir: str
    ports: dict[str, int]
    env: dict[str, str]
    processes: list[Process] = field(default_factory=list)
    started_at: float = 0.0
    up_seconds: float = 0.0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    def save(self) -> None:
        path = Path(self.directory) / STATE
        path.with_suffix(".tmp").write_text(json.dumps(asdict(self), indent=2))
        path.with_suffix(".tmp").replace(path)


def load_state(directory: Path) -> StackState | None:
    path = directory / STATE
    if not path.exists():
        return None
    raw = json.loads(path.read_text())
    raw["processes"] = [Process(**p) for p in raw["processes"]]
    return StackState(**raw)


def start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else int(fields[19])


def alive(process: Process) -> bool:
    """The recorded process still runs (and the pid was not reused by another one)."""
    try:
        os.kill(process.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if process.started is None:
        return True
    return start_time(process.pid) == process.started


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - our own http URL
            return int(answer.status) == 200
    except OSError:
        return False


def answering(state: StackState, process: Process) -> bool | None:
    """Whether the process answers on its port the way it should; None when it has none."""
    if process.port is None:
        return None
    if process.name == "redis":
        return redis_pong(process.port)
    if process.name == "postgres":
        return postgres_cluster(state).ready(process.port)
    if process.name == "api":
        return _http_ok(f"{state.api_url}/readyz")
    if process.name in ("worker", "projector"):
        return _http_ok(f"http://127.0.0.1:{process.port}/metrics")
    return _port_open(process.port)


def postgres_cluster(state: StackState) -> PostgresCluster:
    return PostgresCluster((Path(state.directory) / "postgres").resolve())


def _signal_group(process: Process, signum: int) -> None:
    """The process and what it forked (its session's group), only while it is ours."""
    if not alive(process):
        return
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signum)


def stack_down(
    state: StackState,
    *,
    timeout: float = 30.0,
    on_stop: Callable[[Process, str], None] = lambda *_: None,
) -> list[Process]:
    """Stop what ``state`` names, last started first: SIGTERM, SIGKILL past ``timeout``; Postgres
    with ``pg_ctl stop -m fast``. Removes the state file; the data stays for the next ``up``."""
    left: list[Process] = []
    for process in reversed(state.processes):
        if not alive(process):
            on_stop(process, "not running")
            continue
        if process.name == "postgres":
            postgres_cluster(state).stop(timeout)
        else:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while alive(process) and time.monotonic() < deadline:
            time.sleep(0.1)
        how = "stopped"
        if alive(process):
            _signal_group(process, signal.SIGKILL)
            time.sleep(0.2)
            how = "killed"
        if alive(process):
            left.append(process)
            how = "still running"
        on_stop(process, how)
    if not left:
        (Path(state.directory) / STATE).unlink(missing_ok=True)
    return left


def purge(directory: Path) -> None:
    """Delete a stopped stack's directory: the servers' data (a cluster placed outside it too),
    the logs."""
    state = load_state(directory)
    if state is not None and any(alive(p) for p in state.processes):
        raise StackError(f"the stack in {directory} still runs: `resumeflow stack down` first")
    cluster = directory / "postgres"
    if cluster.is_symlink():
        shutil.rmtree(cluster.resolve(), ignore_errors=True)
        cluster.unlink()
    shutil.rmtree(directory, ignore_errors=True)


def status(state: StackState) -> list[dict[str, Any]]:
    """Per process: name, pid, alive, port, answering, log."""
    rows = []
    for process in state.processes:
        running = alive(process)
        rows.append(
            {
                "name": process.name,
                "pid": process.pid,
                "alive": running,
                "port": process.port,
                "answering": answering(state, process) if running else False,
                "log": process.log,
            }
        )
    return rows
