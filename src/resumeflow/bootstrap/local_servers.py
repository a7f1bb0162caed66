"""redis-server and Postgres run from the machine's binaries, for ``resumeflow stack``.

Each server lives in a directory of its own and outlives the command that started it (a new
session, no terminal), so ``stack down`` in another shell stops it. Redis runs as production runs
it: AOF with an fsync every second, never evicting. Postgres is an ``initdb`` cluster with trust
authentication on 127.0.0.1 only, started and stopped with ``pg_ctl``; it refuses to run as root,
so when we are root the cluster belongs to the ``postgres`` OS user and its commands run through
``setpriv`` (the same as the test servers in ``resumeflow_dev.servers``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from pathlib import Path

__all__ = ["PostgresCluster", "pg_binary", "redis_command", "redis_pong"]

_PG_BIN_DIRS = (
    "/usr/lib/postgresql/17/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/15/bin",
)


def redis_command(directory: Path, port: int) -> list[str]:
    """Writes ``redis.conf`` in ``directory``; the argv that serves it in the foreground."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError(
            "redis-server is not on PATH (Debian: apt-get install redis-server)"
        )
    directory.mkdir(parents=True, exist_ok=True)
    conf = {
        "port": str(port),
        "bind": "127.0.0.1",
        "protected-mode": "yes",
        "dir": str(directory.resolve()),
        "daemonize": "no",
        "appendonly": "yes",
        "appendfsync": "everysec",
        "maxmemory-policy": "noeviction",
    }
    (directory / "redis.conf").write_text("".join(f"{k} {v}\n" for k, v in conf.items()))
    return [binary, str((directory / "redis.conf").resolve())]


def redis_pong(port: int, timeout: float = 1.0) -> bool:
    """True when a Redis on ``port`` answers PING (no client library: a status check)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def pg_binary(name: str) -> str:
    """A Postgres program: on PATH, else the newest under /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    for directory in _PG_BIN_DIRS:
        if (Path(directory) / name).exists():
            return str(Path(directory) / name)
    raise FileNotFoundError(
        f"no Postgres {name} on PATH or in /usr/lib/postgresql/*/bin "
        "(Debian: apt-get install postgresql)"
    )


class PostgresCluster:
    """One cluster in ``directory``: ``data/``, and the server's log ``server.log``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"
        self._owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None

    def reachable(self) -> bool:
        """Whether the server's user can reach ``directory``'s parent: as root it is the
        ``postgres`` user, which a private parent (``/root``, pytest's tmp) keeps out."""
        if self._owner is None:
            return True
        return self._run(["test", "-x", str(self.directory.parent)], 10).returncode == 0

    def _run(self, argv: list[str], timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        if self._owner is not None:
            uid, gid = self._owner.pw_uid, self._owner.pw_gid
            argv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--", *argv]
        return subprocess.run(  # noqa: S603 - argv is ours: Postgres programs and paths
            argv, capture_output=True, text=True, timeout=timeout, check=False, cwd="/"
        )

    def _give(self, path: Path) -> None:
        if self._owner is not None:
            os.chown(path, self._owner.pw_uid, self._owner.pw_gid)

    def init(self) -> bool:
        """``initdb`` once; False when the cluster already exists."""
        if (self.data / "PG_VERSION").exists():
            return False
        self.directory.mkdir(parents=True, exist_ok=True)
        self._give(self.directory)
        done = self._run(
            [
                pg_binary("initdb"),
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
            ]
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stderr or done.stdout}")
        return True

    def start(self, port: int, timeout: float = 60.0) -> int:
        """``pg_ctl start``, waiting until it accepts connections; the postmaster's pid."""
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} "
            f"-c unix_socket_directories={self.directory}"
        )
        done = self._run(
            [
                pg_binary("pg_ctl"),
                "start",
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-w",
                "-t",
                str(int(timeout)),
                "-o",
                options,
            ],
            timeout=timeout + 10,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed:\n{done.stderr or done.stdout}")
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def stop(self, timeout: float = 60.0) -> bool:
        """``pg_ctl stop -m fast``: sessions are ended, the data is checkpointed."""
        done = self._run(
            [
                pg_binary("pg_ctl"),
                "stop",
                "-D",
                str(self.data),
                "-m",
                "fast",
                "-w",
                "-t",
                str(int(timeout)),
            ],
            timeout=timeout + 10,
        )
        return done.returncode == 0

    def ready(self, port: int) -> bool:
        done = self._run(
            [pg_binary("pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"], 10
        )
        return done.returncode == 0
