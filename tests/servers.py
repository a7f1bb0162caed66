"""Real servers for integration tests, started by the tests themselves on free ports.

Why not the system services: a test must never touch data it did not create, and the durability
tests kill their server. Each helper owns one process in its own directory; ``restart`` keeps the
port and the directory, so clients configured with the URL reconnect to the same data.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Self

__all__ = ["RedisServer", "ServerProcess", "free_port", "wait_for_port"]


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, *, timeout: float = 10.0, process: subprocess.Popen[bytes]) -> None:
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


class ServerProcess:
    """One server process bound to a fixed port and data directory (subclasses say how to run it).

    Invariant: at most one process per instance; ``port`` and ``directory`` never change, so a
    restart serves the same data at the same address.
    """

    executable: str = ""

    def __init__(self, directory: Path, *, port: int | None = None) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log = self.directory / "server.log"

    def command(self) -> list[str]:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        if self.running:
            raise RuntimeError("already running")
        executable = shutil.which(self.executable) or self.executable
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                [executable, *self.command()[1:]],
                cwd=self.directory,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for_port(self.port, process=self._process)
        except Exception:
            self.kill9()
            raise
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop gracefully (SIGTERM), then forcefully if it does not exit in time."""
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
        """SIGKILL: the process gets no chance to flush or save anything."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGKILL)
        process.wait()

    def restart(self) -> Self:
        self.stop()
        return self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


class RedisServer(ServerProcess):
    """A redis-server on 127.0.0.1 with its data (RDB, AOF) in ``directory``.

    ``config`` adds directives, e.g. ``{"appendonly": "yes", "appendfsync": "everysec"}``. By
    default nothing is saved (``save ""``), so a test that wants durability says so.
    """

    executable = "redis-server"

    def __init__(
        self,
        directory: Path,
        *,
        port: int | None = None,
        config: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(directory, port=port)
        self.config = {"save": '""', "appendonly": "no", **(config or {})}

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        conf = self.directory / "redis.conf"
        lines = {
            "port": str(self.port),
            "bind": "127.0.0.1",
            "dir": str(self.directory),
            "daemonize": "no",
            "protected-mode": "yes",
            **self.config,
        }
        conf.write_text("".join(f"{key} {value}\n" for key, value in lines.items()))
        return [self.executable, str(conf)]
