"""Throwaway redis-server and Postgres processes for tests and benchmarks.

Why here and not under tests/: ``resumeflow bench ... --spawn`` must run anywhere, so the helpers
ship with the package. A helper owns one process, a free port and a private directory; ``restart``
keeps both, so clients configured with ``.url`` reconnect to the same data. Nothing here ever
touches the machine's own services on 5432/6379.

Postgres refuses to run as root, so when we are root the cluster directory is given to the
``postgres`` OS user and the server is exec'd through ``setpriv`` (no forking wrapper, so the
process we hold is the postmaster itself and ``kill9`` really kills the server).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Self

__all__ = ["PostgresServer", "RedisServer", "free_port", "wait_for_port"]

_PG_BIN_DIRS = (
    "/usr/lib/postgresql/17/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/15/bin",
    "/usr/local/bin",
    "/usr/bin",
)


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, *, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Block until ``port`` accepts connections; fail early when ``process`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


class _Server:
    """One server process on a fixed port and directory; at most one process per instance."""

    def __init__(self, directory: Path | None, port: int | None) -> None:
        self._own_dir = directory is None
        self.directory = directory or Path(tempfile.mkdtemp(prefix=f"rf-{self.kind}-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    kind = "server"

    def command(self) -> list[str]:
        raise NotImplementedError

    def prepare(self) -> None:
        """One-time setup before the first start (e.g. initdb)."""

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.running and self._process else None

    def start(self) -> Self:
        if self.running:
            raise RuntimeError("already running")
        self.prepare()
        with (self.directory / "server.log").open("ab") as log:
            self._process = subprocess.Popen(
                self.command(), cwd=self.directory, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            wait_for_port(self.port, process=self._process)
        except Exception:
            self.kill9()
            raise
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (a clean shutdown), then SIGKILL if it does not exit in time."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill9(self) -> None:
        """SIGKILL: the server gets no chance to flush or save anything."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGKILL)
        process.wait()

    def restart(self) -> Self:
        self.stop()
        return self.start()

    def cleanup(self) -> None:
        """Stop, and remove the directory when we created it."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.cleanup()


class RedisServer(_Server):
    """A redis-server on 127.0.0.1; by default it keeps nothing on disk (``save ""``)."""

    kind = "redis"

    def __init__(
        self,
        directory: Path | None = None,
        *,
        port: int | None = None,
        config: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(directory, port)
        self.config = {"save": '""', "appendonly": "no", **(config or {})}

    @classmethod
    def durable(cls, directory: Path | None = None, *, port: int | None = None) -> RedisServer:
        """As production runs it: AOF with an fsync every second, never evicting."""
        return cls(
            directory,
            port=port,
            config={
                "appendonly": "yes",
                "appendfsync": "everysec",
                "maxmemory-policy": "noeviction",
            },
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        lines = {
            "port": str(self.port),
            "bind": "127.0.0.1",
            "dir": str(self.directory),
            "daemonize": "no",
            "protected-mode": "yes",
            **self.config,
        }
        conf = self.directory / "redis.conf"
        conf.write_text("".join(f"{key} {value}\n" for key, value in lines.items()))
        return [shutil.which("redis-server") or "redis-server", str(conf)]


def _pg_bin(name: str) -> str:
    for directory in _PG_BIN_DIRS:
        candidate = Path(directory) / name
        if candidate.exists():
            return str(candidate)
    raise FileNotFoundError(f"no Postgres {name} in {_PG_BIN_DIRS}")


class PostgresServer(_Server):
    """A private Postgres cluster (trust auth, user ``postgres``, database ``postgres``).

    ``fsync=off`` by default: these clusters are disposable, and tests kill clients, not the
    server. Pass ``settings`` to override any ``postgresql.conf`` parameter.
    """

    kind = "pg"

    def __init__(
        self,
        directory: Path | None = None,
        *,
        port: int | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(directory, port)
        self.settings = {
            "fsync": "off",
            "full_page_writes": "off",
            "synchronous_commit": "off",
            "max_connections": "100",
            "shared_buffers": "256MB",
            **(settings or {}),
        }
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            self._ids = (entry.pw_uid, entry.pw_gid)
            os.chown(self.directory, *self._ids)

    @classmethod
    def durable(cls, directory: Path | None = None, *, port: int | None = None) -> PostgresServer:
        """As production runs it: fsync, full page writes and synchronous commits on."""
        return cls(
            directory,
            port=port,
            settings={"fsync": "on", "full_page_writes": "on", "synchronous_commit": "on"},
        )

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        """The SQLAlchemy asyncpg URL."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def dsn(self) -> str:
        """The plain libpq/asyncpg DSN."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_owner(self, argv: list[str]) -> list[str]:
        if not self._as_postgres:
            return argv
        uid, gid = self._ids
        return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--", *argv]

    def prepare(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        subprocess.run(
            self._as_owner(
                [
                    _pg_bin("initdb"),
                    "-D",
                    str(self.data_dir),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--no-sync",
                    "--locale=C",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def command(self) -> list[str]:
        options = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.directory),
            **self.settings,
        }
        flags = [arg for key, value in options.items() for arg in ("-c", f"{key}={value}")]
        return self._as_owner([_pg_bin("postgres"), "-D", str(self.data_dir), *flags])

    def start(self) -> Self:
        super().start()
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 30.0) -> None:
        """The port opens before the server accepts queries (and during crash recovery)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = subprocess.run(
                [_pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
                capture_output=True,
                check=False,
            )
            if done.returncode == 0:
                return
            time.sleep(0.05)
        raise TimeoutError(f"postgres on {self.port} not ready after {timeout} s")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGINT is Postgres's "fast" shutdown: it aborts sessions instead of waiting for them."""
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout)
        super().stop(timeout)
