"""``resumeflow bench pipeline``: the distributed pipeline beside the seed's synchronous loop.

Distributed: two Celery worker processes (threads pool, one event loop each: tasks/loop.py) run
the stages with the latency-simulating adapters (adapters/simulated.py). The bench process is
the producer: it submits ``in_flight`` applications, sends their ``store`` stage, and from then
on submits a new application for each one it sees completed or failed in the event log's feed,
so exactly ``in_flight`` applications are in flight until the last ones are submitted. An
application is in flight from the start of its submission (its inbox upload included) to its
terminal event; its latency is that span.

Throughput (``apps_per_s``) is measured while exactly ``in_flight`` applications are in flight,
over whole rounds: from the ``in_flight``-th terminal event (the first round, when everything
started at once, is ramp-up) to the last one that still triggered a refill (after it the
pipeline drains), ``rounds * in_flight`` applications in between. In a closed loop of
``in_flight`` slots that is Little's law's ``in_flight / mean latency`` at that concurrency, which
is what the ideal below assumes. ``overall_apps_per_s`` is ``applications / (last terminal event
- first submission)``, ramp-up and drain included. Runs shorter than three rounds report the
overall rate as ``apps_per_s``.

The latency-bound ideal is what the slots would do if an application took only the latency the
configured cloud calls impose, in the order the pipeline makes them, and nothing else::

    per_application = 3 * s3            inbox upload (submit), inbox read + blob write (store)
                    + polls * poll      the OCR job seen IN_PROGRESS ``polls`` times
                    + gemini            the parse call
                    + embedding         the resume's embedding (the job post's is stored once)
    ideal_apps_per_s = in_flight / per_application

Everything else (Redis round trips of the event log, broker hops, countdown timers, the workers'
CPU: event encoding and decoding, folds, scoring, Celery's own work) counts against
``ratio_to_ideal``. The OCR and the parse that the simulated services answer with are computed
once per distinct input (adapters/simulated.py says why): every application here is a copy of one
resume, and the real Textract and Gemini do that work on their own machines.

Synchronous baseline (the seed's before-state): the same stages with the same simulated adapters
and event log, one application at a time in this process: ``pipeline.runner.drive`` per
application, each awaited before the next is submitted. With a single application in flight
every await is a blocking wait (nothing else can run), so this is exactly a synchronous loop
with sleeps; reusing ``drive`` keeps the stage code identical on both sides. A few applications
give its rate (it has no variance to average out: ~2 s each).

``peak_rss_mb`` sums VmHWM (peak resident set) of both worker processes and any children.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from uuid import UUID, uuid4

from celery import Celery

from resumeflow.adapters.local.jobs import job_post_from_text
from resumeflow.bootstrap.celery import create_celery
from resumeflow.bootstrap.distributed import WorkerRuntime, open_worker_runtime
from resumeflow.bootstrap.settings import Settings
from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import upgrade
from resumeflow.domain.application import Status
from resumeflow.domain.events import Stage
from resumeflow.pipeline.runner import drive
from resumeflow.pipeline.submit import SubmitApplication, submit_application
from resumeflow.tasks.dispatch import dispatch

__all__ = ["Latencies", "bench_pipeline", "peak_rss_mb"]

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
TERMINAL = (b"application.completed", b"application.failed")


@dataclass(frozen=True)
class Latencies:
    """The simulated cloud's latencies, in seconds."""

    s3: float = 0.02
    textract_polls: int = 3
    textract_poll: float = 0.3
    gemini: float = 0.8
    embedding: float = 0.15

    def per_application(self) -> float:
        """The latency one application must wait for (the module docstring's formula)."""
        return 3 * self.s3 + self.textract_polls * self.textract_poll + self.gemini + self.embedding

    def environment(self) -> dict[str, str]:
        return {
            "RESUMEFLOW_SIMULATED_S3_SECONDS": str(self.s3),
            "RESUMEFLOW_SIMULATED_TEXTRACT_POLLS": str(self.textract_polls),
            "RESUMEFLOW_SIMULATED_TEXTRACT_POLL_SECONDS": str(self.textract_poll),
            "RESUMEFLOW_SIMULATED_GEMINI_SECONDS": str(self.gemini),
            "RESUMEFLOW_SIMULATED_EMBEDDING_SECONDS": str(self.embedding),
        }


def _descendants(pid: int) -> Iterator[int]:
    yield pid
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return
    for tid in tasks:
        try:
            children = Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
        except OSError:
            continue
        for child in children:
            yield from _descendants(int(child))


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by ``pids`` and their descendants (Linux /proc)."""
    ticks = 0
    for pid in {p for root in pids for p in _descendants(root)}:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pids: list[int]) -> float:
    """Summed VmHWM (peak RSS) of ``pids`` and their descendants, in MiB (Linux /proc)."""
    kib = 0
    for pid in {p for root in pids for p in _descendants(root)}:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                kib += int(line.split()[1])
    return round(kib / 1024, 1)


class _Workers:
    """``count`` Celery worker processes, each a threads pool of ``concurrency`` threads."""

    def __init__(self, env: Mapping[str, str], count: int, concurrency: int, log_dir: Path) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs = [log_dir / f"worker{n}.log" for n in range(count)]
        for n, path in enumerate(self.logs):
            command = [
                sys.executable, "-m", "celery", "-A", "resumeflow.tasks", "worker",
                "-P", "threads", "-c", str(concurrency), "-n", f"bench{n}-{os.getpid()}@%h",
                "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
                "--without-heartbeat",
            ]  # fmt: skip
            with path.open("wb") as log:  # the child keeps its own descriptor
                self.processes.append(
                    subprocess.Popen(
                        command,
                        env={**os.environ, **env},
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def wait_ready(self, app: Celery, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        names = {f"bench{n}-{os.getpid()}@" for n in range(len(self.processes))}
        while time.monotonic() < deadline:
            for process, path in zip(self.processes, self.logs, strict=True):
                if process.poll() is not None:
                    tail = path.read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"a worker exited with {process.returncode}:\n{tail}")
            replies = app.control.ping(timeout=0.5) or []
            seen = {name.split("@")[0] + "@" for reply in replies for name in reply}
            if names <= seen:
                return
        raise TimeoutError(f"the workers did not answer a ping within {timeout} s")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class _Producer:
    """Submits applications, sends their first stage, and watches the feed for their ends."""

    def __init__(
        self, runtime: WorkerRuntime, app: Celery, job_post_id: UUID, resume: bytes, batch: int
    ) -> None:
        self.runtime = runtime
        self.app = app
        self.job_post_id = job_post_id
        self.resume = resume
        self.batch = batch
        self.started: dict[UUID, float] = {}
        self.submitted_at: dict[UUID, float] = {}
        self.ended_ids: list[UUID] = []
        self.ended_at: list[float] = []
        self.latencies: list[float] = []
        self.failed = 0
        events: Any = runtime.services.events
        self._feed: dict[str, str | bytes] = {key: "$" for key in events.feed_keys}

    def command(self) -> SubmitApplication:
        """One application of the bench's resume to its job post."""
        return SubmitApplication(
            job_post_id=self.job_post_id,
            email="bench@example.com",
            name="Bench Applicant",
            filename="resume.pdf",
            data=self.resume,
        )

    async def submit(self, count: int) -> None:
        """Submit ``count`` applications and send ``store`` for them in messages of ``batch``."""
        if count <= 0:
            return
        now = time.time()
        command = self.command()
        accepted = await asyncio.gather(
            *(submit_application(self.runtime.services, command) for _ in range(count))
        )
        ids = [a.application_id for a in accepted]
        for application_id in ids:
            self.started[application_id] = self.submitted_at[application_id] = now
        for start in range(0, len(ids), self.batch):
            dispatch(self.app, Stage.STORE, ids[start : start + self.batch])

    async def ended(self) -> int:
        """Wait for terminal events on the feed; record their latencies; how many ended."""
        streams: dict[Any, Any] = dict(self._feed)
        reply = cast(
            list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]],
            await self.runtime.redis.xread(streams, count=5000, block=200),
        )
        now = time.time()
        ended = 0
        for key, entries in reply or []:
            for entry_id, fields in entries:
                self._feed[key.decode()] = entry_id
                kind = fields.get(b"type")
                if kind not in TERMINAL:
                    continue
                application_id = UUID(fields[b"application_id"].decode())
                started = self.started.pop(application_id, None)
                if started is None:
                    continue  # an application of an earlier phase
                self.ended_ids.append(application_id)
                self.ended_at.append(now)
                self.latencies.append(now - started)
                self.failed += kind == b"application.failed"
                ended += 1
        return ended

    async def run(self, applications: int, in_flight: int, give_up_after: float) -> float:
        """Keep ``in_flight`` applications in flight until ``applications`` have ended."""
        self.latencies.clear()
        self.ended_ids.clear()
        self.failed = 0
        await self.ended()  # moves the feed position past what is already there
        self.ended_at.clear()
        self.submitted_at.clear()
        began = time.time()
        submitted = min(in_flight, applications)
        await self.submit(submitted)
        done = 0
        while done < applications:
            if time.time() - began > give_up_after:
                raise TimeoutError(f"{applications - done} applications still running")
            ended = await self.ended()
            done += ended
            refill = min(ended, applications - submitted)
            submitted += refill
            await self.submit(refill)
        return time.time() - began

    def steady_rate(self, in_flight: int) -> tuple[float, int] | None:
        """Applications per second over whole rounds at full concurrency, and the rounds."""
        rounds = (len(self.ended_at) - 2 * in_flight) // in_flight
        if rounds < 1:
            return None
        first, last = in_flight - 1, in_flight - 1 + rounds * in_flight
        return rounds * in_flight / (self.ended_at[last] - self.ended_at[first]), rounds


async def _stage_seconds(producer: _Producer, sample: int = 200) -> dict[str, float]:
    """Where an application's time goes, over a sample of the measured applications: mean
    seconds from the submission's start to ``received``, from each event to the next (by the
    later event's type: that stage's work plus the hop to it), and from the terminal event to
    the producer seeing it."""
    gaps: dict[str, list[float]] = {}
    step = max(1, len(producer.ended_ids) // sample)
    for n in range(0, len(producer.ended_ids), step):
        application_id = producer.ended_ids[n]
        history = await producer.runtime.services.events.read(application_id)
        times = [
            producer.submitted_at[application_id],
            *(e.occurred_at.timestamp() for e in history),
            producer.ended_at[n],
        ]
        names = [*(e.type.removeprefix("application.") for e in history), "seen"]
        for name, (before, after) in zip(names, itertools.pairwise(times), strict=True):
            gaps.setdefault(name, []).append(after - before)
    return {kind: round(statistics.fmean(values), 3) for kind, values in gaps.items()}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def _sync_rate(producer: _Producer, count: int) -> tuple[float, int]:
    """The seed's loop: submit one application, drive it to its end, then the next."""
    services = producer.runtime.services
    command = producer.command()
    completed = 0
    began = time.time()
    for _ in range(count):
        accepted = await submit_application(services, command)
        state = await drive(services, accepted.application_id)
        completed += state.status is Status.COMPLETED
    return count / (time.time() - began), completed


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """``env`` in ``os.environ`` for the block: the settings the workers will read."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _settings(redis_url: str, broker_url: str, prefix: str, data: Path) -> dict[str, str]:
    return {
        "RESUMEFLOW_ENVIRONMENT": "development",
        "RESUMEFLOW_BROKER_URL": broker_url,
        "RESUMEFLOW_REDIS_URL": redis_url,
        "RESUMEFLOW_STREAM_PREFIX": prefix,
        "RESUMEFLOW_DATABASE_URL": f"sqlite+aiosqlite:///{data / 'jobs.db'}",
        "RESUMEFLOW_DATA_DIR": str(data),
        "RESUMEFLOW_BLOB_STORE": "simulated",
        "RESUMEFLOW_EXTRACTOR": "simulated",
        "RESUMEFLOW_PARSER": "simulated",
        "RESUMEFLOW_EMBEDDER": "simulated",
    }


async def bench_pipeline(
    redis_url: str,
    *,
    broker_url: str | None = None,
    applications: int = 2000,
    in_flight: int = 200,
    workers: int = 2,
    concurrency: int = 16,
    batch_size: int = 25,
    latencies: Latencies | None = None,
    sync_applications: int = 5,
    warmup: int = 50,
    resume: Path | None = None,
    job_post: Path | None = None,
    give_up_after: float = 600.0,
) -> dict[str, Any]:
    """Run the distributed pipeline and the synchronous baseline; one flat dict of figures."""
    latencies = latencies or Latencies()
    prefix = f"rfbench{uuid4().hex[:8]}"
    resume_bytes = (resume or EXAMPLES / "resume.pdf").read_bytes()
    job_text = (job_post or EXAMPLES / "job-backend-engineer.txt").read_text()
    with tempfile.TemporaryDirectory(prefix="rf-bench-pipeline-") as tmp:
        env = {
            **_settings(redis_url, broker_url or redis_url, prefix, Path(tmp)),
            **latencies.environment(),
        }
        with _environment(env):
            settings = Settings()
        engine = create_engine(settings.database_url)
        await upgrade(engine)
        await engine.dispose()
        runtime = await open_worker_runtime(settings)
        job = job_post_from_text(job_text, job_post_id=uuid4())
        await runtime.services.job_posts.add(job)
        app = create_celery(settings)
        producer = _Producer(runtime, app, job.id, resume_bytes, batch_size)
        pool = _Workers(env, workers, concurrency, Path(tmp))
        try:
            await asyncio.to_thread(pool.wait_ready, app)
            if warmup:
                await producer.run(warmup, min(warmup, in_flight), give_up_after)
            cpu_before = _cpu_seconds(pool.pids)
            elapsed = await producer.run(applications, in_flight, give_up_after)
            worker_cpu = (_cpu_seconds(pool.pids) - cpu_before) / elapsed
            measured = list(producer.latencies)
            failed = producer.failed
            steady = producer.steady_rate(in_flight)
            stage_seconds = await _stage_seconds(producer)
            rss = peak_rss_mb(pool.pids)
        finally:
            await asyncio.to_thread(pool.stop)
            app.close()
        try:
            sync_rate, sync_completed = await _sync_rate(producer, sync_applications)
        finally:
            keys = [k async for k in runtime.redis.scan_iter(match=f"{prefix}:*", count=1000)]
            for start in range(0, len(keys), 1000):
                await runtime.redis.delete(*keys[start : start + 1000])
            await runtime.aclose()
    overall = applications / elapsed
    rate, rounds = steady or (overall, 0)
    ideal = in_flight / latencies.per_application() if latencies.per_application() else None
    return {
        "applications": applications,
        "completed": len(measured) - failed,
        "failed": failed,
        "in_flight": in_flight,
        "workers": workers,
        "concurrency": concurrency,
        "batch_size": batch_size,
        "seconds": round(elapsed, 2),
        "apps_per_s": round(rate, 2),
        "steady_rounds": rounds,
        "overall_apps_per_s": round(overall, 2),
        "ideal_latency_s": round(latencies.per_application(), 4),
        "ideal_apps_per_s": round(ideal, 2) if ideal else None,
        "ratio_to_ideal": round(rate / ideal, 3) if ideal else None,
        "latency_mean_s": round(statistics.fmean(measured), 3),
        "latency_p50_s": round(statistics.median(measured), 3),
        "latency_p95_s": round(_percentile(measured, 0.95), 3),
        "sync_applications": sync_applications,
        "sync_completed": sync_completed,
        "sync_apps_per_s": round(sync_rate, 3),
        "speedup_vs_sync": round(rate / sync_rate, 1),
        "peak_rss_mb": rss,
        "worker_cpu_per_s": round(worker_cpu, 3),
        "stage_seconds": stage_seconds,
    }
