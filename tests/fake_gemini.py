"""A scripted local HTTP fake of the Gemini REST API, for the real google-genai client to talk to.

It serves ``POST /{version}/models/{model}:{method}`` for ``generateContent``,
``batchEmbedContents`` and ``embedContent`` on 127.0.0.1 (a stdlib server in a thread). Replies
are scripted: a queue of ``Reply`` taken one per request, then ``fallback`` (or a 500 saying the
fake was not scripted). Every request is recorded, so a test can count attempts and read what
the SDK sent.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from resumeflow_dev.fakes.gemini_wire import PATH, Reply, embedding_reply, error_reply, text_reply

__all__ = [
    "FakeGemini",
    "Recorded",
    "Reply",
    "embedding_reply",
    "error_reply",
    "text_reply",
]


@dataclass(frozen=True)
class Recorded:
    version: str
    model: str
    method: str
    headers: dict[str, str]
    body: Any


@dataclass
class _Script:
    queue: deque[Reply] = field(default_factory=deque)
    fallback: Reply | None = None
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, recorded: Recorded) -> Reply:
        with self.lock:
            self.requests.append(recorded)
            if self.queue:
                return self.queue.popleft()
            if self.fallback is not None:
                return self.fallback
        return error_reply(500, "the fake was not scripted for this request")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        match = PATH.match(self.path.split("?", 1)[0])
        if match is None:
            self._send(error_reply(404, f"no route {self.path}"))
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        recorded = Recorded(
            version=match["version"],
            model=match["model"],
            method=match["method"],
            headers={k.lower(): v for k, v in self.headers.items()},
            body=json.loads(raw) if raw else None,
        )
        self._send(self.server.script.answer(recorded))

    def _send(self, reply: Reply) -> None:
        payload = reply.encoded()
        self.send_response(reply.status, HTTPStatus(reply.status).phrase)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads ``FakeGemini.requests`` instead."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, script: _Script) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = script


class FakeGemini:
    """Use as a context manager; ``url`` is the base URL to give the client."""

    def __init__(self) -> None:
        self._script = _Script()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "the fake is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> list[Recorded]:
        with self._script.lock:
            return list(self._script.requests)

    def script(self, *replies: Reply, fallback: Reply | None = None) -> None:
        """Answer the next requests with ``replies`` in order, then with ``fallback``."""
        with self._script.lock:
            self._script.queue.extend(replies)
            self._script.fallback = fallback

    def reset(self) -> None:
        """Forget the script and the recorded requests (a module-scoped fake between tests)."""
        with self._script.lock:
            self._script.queue.clear()
            self._script.fallback = None
            self._script.requests.clear()

    def start(self) -> None:
        self._server = _Server(self._script)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-gemini", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
