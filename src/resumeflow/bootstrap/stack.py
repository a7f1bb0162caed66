"""The distributed mode on one machine from local binaries: ``resumeflow stack up``.

The topology is docker-compose.yml's: Redis and Postgres, migrations, then the API, a worker, the
projector, beat and (when installed) Flower, each a process of its own in a new session, so they
outlive ``stack up`` and ignore the terminal's Ctrl-C. Everything lives in the stack directory:
the servers' data, one log per process, and the state file (``bootstrap/stack_state.py``) that
``status``, ``logs`` and ``down`` read.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from importlib.util import find_spec
from pathlib import Path

from resumeflow.bootstrap.local_servers import PostgresCluster, redis_command, redis_pong
from resumeflow.bootstrap.stack_state import (
    Process,
    StackError,
    StackState,
    alive,
    answering,
    load_state,
    stack_down,
    start_time,
)

__all__ = ["DEFAULT_PORTS", "choose_ports", "flower_installed", "stack_up"]

DEFAULT_PORTS = {
    "api": 8000,
    "redis": 16379,
    "postgres": 15432,
    "worker_metrics": 9101,
    "projector_metrics": 9102,
    "flower": 5555,
}


def _place_cluster(directory: Path) -> PostgresCluster:
    """``stack/postgres``, or a symlink to a folder in the system's temp directory when the
    ``postgres`` user cannot reach the stack directory (we are root in a private folder)."""
    inside = directory / "postgres"
    cluster = PostgresCluster(inside.resolve())
    if inside.exists() or cluster.reachable():
        return cluster
    name = hashlib.sha256(str(directory).encode()).hexdigest()[:12]
    outside = Path(tempfile.gettempdir()) / f"resumeflow-stack-{name}"
    outside.mkdir(mode=0o700, exist_ok=True)
    inside.symlink_to(outside, target_is_directory=True)
    return PostgresCluster(outside)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _check_ports(ports: Mapping[str, int]) -> None:
    for name, port in ports.items():
        with socket.socket() as sock:
            # as the servers bind: a port whose last connections wait in TIME_WAIT is free
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError as error:
                option = "--" + name.replace("_", "-") + "-port"
                raise StackError(
                    f"port {port} ({name}) is taken: choose another with {option}, "
                    "or --free-ports to let the OS pick every port"
                ) from error


def choose_ports(wanted: Mapping[str, int | None], *, free: bool) -> dict[str, int]:
    """The defaults, overridden by ``wanted``; every one picked by the OS when ``free``."""
    ports = {
        name: (_free_port() if free else (wanted.get(name) or default))
        for name, default in DEFAULT_PORTS.items()
    }
    return ports


def _environment(data_dir: Path, ports: Mapping[str, int]) -> dict[str, str]:
    """What every process of the stack, and a shell that talks to it, must agree on."""
    redis = f"redis://127.0.0.1:{ports['redis']}"
    return {
        "RESUMEFLOW_DATA_DIR": str(data_dir),
        "RESUMEFLOW_DATABASE_URL": (
            f"postgresql+asyncpg://postgres@127.0.0.1:{ports['postgres']}/postgres"
        ),
        "RESUMEFLOW_REDIS_URL": f"{redis}/0",
        "RESUMEFLOW_BROKER_URL": f"{redis}/1",
    }


def _services(ports: Mapping[str, int], flower: bool) -> list[tuple[str, list[str], int | None]]:
    """docker-compose.yml's services after ``migrate``, as commands of this interpreter."""
    rf = [sys.executable, "-m", "resumeflow"]
    celery = [sys.executable, "-m", "celery", "--app=resumeflow.tasks"]
    services: list[tuple[str, list[str], int | None]] = [
        ("api", [*rf, "api", "--host", "127.0.0.1", "--port", str(ports["api"])], ports["api"]),
        (
            "worker",
            [
                *rf,
                "worker",
                "--hostname",
                "stack-worker@%h",
                "--loglevel",
                "INFO",
                "--metrics-port",
                str(ports["worker_metrics"]),
            ],
            ports["worker_metrics"],
        ),
        (
            "projector",
            [*rf, "projector", "--metrics-port", str(ports["projector_metrics"])],
            ports["projector_metrics"],
        ),
        ("beat", [*celery, "beat", "--loglevel=INFO"], None),
    ]
    if flower:
        services.append(
            ("flower", [*celery, "flower", f"--port={ports['flower']}"], ports["flower"])
        )
    return services


def flower_installed() -> bool:
    return find_spec("flower") is not None


def _spawn(name: str, argv: list[str], env: Mapping[str, str], logs: Path) -> Process:
    log = logs / f"{name}.log"
    with log.open("ab") as out:
        child = subprocess.Popen(  # noqa: S603 - argv is ours: this interpreter's commands
            argv,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Process(name, child.pid, start_time(child.pid), argv, str(log))


def _wait(what: str, ready: Callable[[], bool], process: Process | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and not alive(process):
            raise StackError(f"{what} exited while starting; see {process.log}")
        if ready():
            return
        time.sleep(0.2)
    raise StackError(f"{what} is not ready after {timeout:g} s; see its log")


def _ready(state: StackState, process: Process) -> Callable[[], bool]:
    if process.port is None:
        return lambda: True
    return lambda: bool(answering(state, process))


def stack_up(
    directory: Path,
    data_dir: Path,
    ports: Mapping[str, int],
    *,
    flower: bool,
    on_step: Callable[[str], None] = lambda _: None,
    timeout: float = 120.0,
) -> StackState:
    """Start everything in order and wait until the API is ready; on any failure, stop what
    was started and raise :class:`StackError`."""
    directory, data_dir = directory.resolve(), data_dir.resolve()
    existing = load_state(directory)
    if existing is not None and any(alive(p) for p in existing.processes):
        raise StackError(f"a stack already runs from {directory}: `resumeflow stack down` first")
    _check_ports(ports)
    logs = directory / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    stack_env = _environment(data_dir, ports)
    state = StackState(str(directory), str(data_dir), dict(ports), stack_env, [], time.time())
    env = {**os.environ, **stack_env}
    env.setdefault("RESUMEFLOW_CONSUMER_NAME", "projector-1")
    try:
        on_step("redis")
        redis = _spawn("redis", redis_command(directory / "redis", ports["redis"]), env, logs)
        redis.port = ports["redis"]
        state.processes.append(redis)
        state.save()
        _wait("redis-server", lambda: redis_pong(ports["redis"]), redis, 30)

        on_step("postgres")
        cluster = _place_cluster(directory)
        cluster.init()
        (logs / "postgres.log").unlink(missing_ok=True)
        (logs / "postgres.log").symlink_to(cluster.log)
        pid = cluster.start(ports["postgres"])
        state.processes.append(
            Process(
                "postgres",
                pid,
                start_time(pid),
                ["pg_ctl", "start", "-D", str(cluster.data)],
                str(cluster.log),
                ports["postgres"],
            )
        )
        state.save()

        on_step("migrate")
        migrate = subprocess.run(
            [sys.executable, "-m", "resumeflow", "migrate"],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        (logs / "migrate.log").write_text(migrate.stdout + migrate.stderr)
        if migrate.returncode != 0:
            raise StackError(f"resumeflow migrate failed; see {logs / 'migrate.log'}")

        for name, argv, port in _services(ports, flower):
            on_step(name)
            process = _spawn(name, argv, {**env, "OTEL_SERVICE_NAME": f"resumeflow-{name}"}, logs)
            process.port = port
            state.processes.append(process)
            state.save()
        remaining = max(timeout - (time.monotonic() - started), 10.0)
        for process in state.processes[2:]:
            on_step(f"waiting for {process.name}")
            _wait(process.name, _ready(state, process), process, remaining)
    except (StackError, RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        stack_down(state)
        raise StackError(str(error)) from error
    except KeyboardInterrupt as interrupted:
        stack_down(state)
        raise StackError("interrupted: stopped what was started") from interrupted
    state.up_seconds = round(time.monotonic() - started, 1)
    state.save()
    return state
