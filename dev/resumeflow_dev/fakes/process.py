"""The fake cloud as a process of its own (its CPU is the services', not the workers')."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Self

__all__ = ["FakeCloud"]


class FakeCloud:
    """Runs ``python -m resumeflow_dev.fakes`` with ``options`` (its CLI flags, e.g.
    ``{"gemini-ms": 5}``); ``url`` is the one endpoint of S3, Textract, Gemini and OTLP."""

    def __init__(self, log: Path | None = None, **options: float | str) -> None:
        self.options = options
        self.log = log
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> Self:
        argv = [sys.executable, "-m", "resumeflow_dev.fakes"]
        for name, value in self.options.items():
            argv += [f"--{name.replace('_', '-')}", str(value)]
        errors = self.log.open("ab") if self.log else subprocess.DEVNULL
        try:
            self._process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors
            )
        finally:
            if self.log:
                errors.close()  # type: ignore[union-attr]
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            self._process.wait(5)
            raise RuntimeError(f"the fake cloud exited with {self._process.returncode}")
        self.url = json.loads(line)["url"]
        return self

    def stats(self) -> dict[str, int]:
        """Requests served so far, by operation."""
        with urllib.request.urlopen(f"{self.url}/_fake/stats", timeout=5) as answer:
            counts: dict[str, int] = json.load(answer)
        return counts

    def configure(self, **changes: float | str) -> None:
        """Change ``FakeCloudConfig`` fields (seconds, fault shares) in the running server."""
        self._request("POST", "/_fake/config", json.dumps(changes).encode())

    def create_bucket(self, name: str) -> None:
        """S3's CreateBucket, unsigned (the fake does not check signatures)."""
        self._request("PUT", f"/{name}", b"")

    def _request(self, method: str, path: str, body: bytes) -> None:
        request = urllib.request.Request(f"{self.url}{path}", data=body, method=method)
        with urllib.request.urlopen(request, timeout=5):
            pass

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
