"""The async bridge: one event loop per worker process, on its own thread, fed by the pool.

Celery 5.7 runs only plain functions, and the adapters' clients (aiobotocore, google-genai's
aiohttp session, redis.asyncio) are bound to the loop they were created on. So each worker
process gets exactly one loop, started when the process starts and stopped when it ends, and
every client lives on it for the life of the process:

- prefork and solo children: started in ``worker_process_init``, stopped in
  ``worker_process_shutdown`` (never in the prefork parent: a thread must not cross a fork);
- the threads pool (our default) sends no ``worker_process_init``, so there the loop starts in
  ``worker_init`` and stops in ``worker_shutdown``: the pool lives in the one process.

A task submits its coroutine with ``run_coroutine_threadsafe`` and blocks its pool thread on the
result; the loop interleaves every submitted coroutine, so a process with 100 pool threads has
100 tasks' I/O in flight at once. docs/adr/0004-async-bridge.md records the alternatives measured.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol, TypeVar

from celery import signals
from celery.concurrency import get_implementation
from celery.concurrency.thread import TaskPool as ThreadPool

__all__ = [
    "Closeable",
    "LoopThread",
    "install",
    "process_runtime",
    "run",
    "runs_tasks_in_this_process",
    "start",
    "stop",
]

T = TypeVar("T")
log = logging.getLogger(__name__)


class Closeable(Protocol):
    async def aclose(self) -> None: ...


class LoopThread:
    """An event loop running forever on a daemon thread, until ``stop``."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._serve, name="resumeflow-event-loop", daemon=True
        )
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait for it; on timeout it is cancelled, then re-raised."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self.loop.is_running():
            self.loop.close()


class _Process:
    def __init__(self, loop: LoopThread, runtime: Closeable) -> None:
        self.pid = os.getpid()
        self.loop = loop
        self.runtime = runtime


_current: _Process | None = None
_lock = threading.Lock()


def start(open_runtime: Callable[[], Awaitable[Closeable]]) -> None:
    """Start this process's loop and open its runtime on it (idempotent per process)."""
    global _current
    with _lock:
        if _current is not None and _current.pid == os.getpid():
            return
        loop = LoopThread()

        async def opened() -> Closeable:
            return await open_runtime()

        _current = _Process(loop, loop.run(opened()))
        log.info("event loop and clients started in process %s", os.getpid())


def process_runtime() -> Any:
    """The runtime opened by ``start`` in this process."""
    if _current is None or _current.pid != os.getpid():
        raise RuntimeError("no event loop in this process: the worker signals did not run")
    return _current.runtime


def run(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    if _current is None or _current.pid != os.getpid():
        coro.close()
        raise RuntimeError("no event loop in this process: the worker signals did not run")
    return _current.loop.run(coro, timeout)


def stop() -> None:
    """Close the runtime's clients on their loop, then stop the loop (idempotent)."""
    global _current
    with _lock:
        process, _current = _current, None
        if process is None or process.pid != os.getpid():
            return
        try:
            process.loop.run(process.runtime.aclose(), timeout=30)
        except Exception:
            log.exception("closing the worker's clients failed")
        process.loop.stop()


def runs_tasks_in_this_process(worker: Any) -> bool:
    """True for the threads pool, whose tasks run in the worker's own process: no
    ``worker_process_init`` comes, so per-process set-up happens at ``worker_init``."""
    pool = getattr(worker, "pool_cls", None)
    return pool is not None and get_implementation(pool) is ThreadPool


def install(open_runtime: Callable[[], Awaitable[Closeable]]) -> None:
    """Connect the worker signals that start and stop the loop in the right processes."""

    def on_worker_init(sender: Any = None, **_: Any) -> None:
        if runs_tasks_in_this_process(sender):
            start(open_runtime)

    def on_process_init(**_: Any) -> None:
        start(open_runtime)

    def on_shutdown(**_: Any) -> None:
        stop()

    signals.worker_init.connect(on_worker_init, weak=False, dispatch_uid="resumeflow.loop.init")
    signals.worker_process_init.connect(
        on_process_init, weak=False, dispatch_uid="resumeflow.loop.process_init"
    )
    signals.worker_process_shutdown.connect(
        on_shutdown, weak=False, dispatch_uid="resumeflow.loop.process_shutdown"
    )
    signals.worker_shutdown.connect(
        on_shutdown, weak=False, dispatch_uid="resumeflow.loop.shutdown"
    )
