"""``resumeflow bench pipeline``: the distributed pipeline as it is deployed, on a fake cloud.

What runs: a durable redis-server (log and broker) and Postgres, the projector and ``workers``
processes started as ``resumeflow worker`` starts them (production defaults; the environment
only names the servers, the fake cloud's endpoints and keys, a Gemini rate limit above the load
and the Textract poll interval that the latency model assumes), the real adapters (aioboto3 S3
and Textract, google-genai, the Redis rate limiter) against ``resumeflow_dev.fakes`` in its own
process, which sleeps the configured latency at the network edge. This process is the API: it
submits one application per ``submit_application`` call with the Celery dispatcher, keeping
``in_flight`` applications in flight (a new one for each terminal event it reads on the feed).

Runs, per round (sides alternate between rounds; every figure is the median over rounds):
``mixed`` (``scan_share`` scans, the rest text PDFs/DOCX: bench/inputs.py) and ``text`` (text
documents only) on untraced workers; ``traced`` (mixed, workers exporting every span over
OTLP/HTTP to the fake, which drops them) on workers restarted with ``OTEL_TRACES_EXPORTER=otlp``.
Each worker start is followed by a warm-up run that is not measured.

Figures:

- ``apps_per_s``: terminal events per second while exactly ``in_flight`` were in flight, over
  whole rounds of ``in_flight`` (the first round is ramp-up, the drain is left out); the overall
  rate when a run is shorter than three rounds.
- ``ideal_apps_per_s``: what the same load would do if an application cost only the waits the
  fake imposes, ``min(in_flight / L, workers * concurrency / H)`` over the mix, where ``L`` is
  the mean of what an application waits for from the start of its submission (upload, inbox
  read, blob write, blob read: 4 S3 calls; OCR for scans: ``polls * poll``; the parse; the
  résumé's embedding; the job post's is stored once) and ``H`` the mean of what holds a pool
  thread (the same less the upload, made here, and less a job's countdowns between polls, which
  hold no thread). ``ratio_to_ideal = apps_per_s / ideal_apps_per_s``.
- ``cpu_ms_per_application``: user + system CPU of the worker processes (and any children, from
  /proc) during a mixed run, over the applications that ended in it.
- ``peak_rss_mb``: the largest VmHWM of one worker (with its children); each worker's beside it.
- ``text_p95_latency_ratio``: p95 latency of the text documents in the mixed run over the p95
  of the text-only run; a latency is ``received`` to the terminal event, from the events' times.
- ``tracing_overhead``: ``traced apps_per_s / mixed apps_per_s`` (per round, then median): the
  share of the throughput kept with tracing exported (issue 14's floor: >= 0.9).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from uuid import UUID, uuid4

from sqlalchemy import text

from resumeflow.adapters.local.jobs import job_post_from_text
from resumeflow.bootstrap.api import ApiRuntime, api_runtime
from resumeflow.bootstrap.celery import create_celery
from resumeflow.bootstrap.settings import Settings
from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import upgrade
from resumeflow.domain.events import EventEnvelope
from resumeflow.pipeline.submit import SubmitApplication, submit_application
from resumeflow_dev.bench.common import servers
from resumeflow_dev.bench.inputs import Resume, mixed
from resumeflow_dev.fakes.process import FakeCloud

__all__ = ["Latencies", "bench_pipeline", "cpu_seconds", "peak_rss_mb"]

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
TERMINAL = (b"application.completed", b"application.failed")
BUCKET = "resumeflow-bench"


@dataclass(frozen=True)
class Latencies:
    """The fake cloud's latencies, in seconds."""

    s3: float = 0.02
    textract_polls: int = 3
    textract_poll: float = 0.3
    gemini: float = 0.8
    embedding: float = 0.15

    def fake_options(self) -> dict[str, float]:
        return {
            "s3_ms": self.s3 * 1000,
            "textract_polls": self.textract_polls,
            "textract_poll_ms": self.textract_poll * 1000,
            "gemini_ms": self.gemini * 1000,
            "embedding_ms": self.embedding * 1000,
        }

    def waited(self, resume: Resume) -> float:
        """What one application waits for, from the start of its submission (``L``)."""
        ocr = self.textract_polls * self.textract_poll if resume.scan else 0.0
        return 4 * self.s3 + ocr + self.gemini + self.embedding

    def held(self, resume: Resume) -> float:
        """What holds a worker's pool thread (``H``): no upload, no countdown between polls."""
        ocr = self.textract_polls * self.textract_poll if resume.scan and not resume.job else 0.0
        return 3 * self.s3 + ocr + self.gemini + self.embedding


def ideal_rate(
    latencies: Latencies, sample: list[Resume], in_flight: int, slots: int
) -> tuple[float, float]:
    """The latency-bound ideal (module docstring) and its mean ``L``."""
    waited = statistics.fmean(latencies.waited(r) for r in sample)
    held = statistics.fmean(latencies.held(r) for r in sample)
    return min(in_flight / waited, slots / held), waited


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


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by ``pids`` and their descendants (Linux /proc)."""
    ticks = 0
    for pid in {p for root in pids for p in _descendants(root)}:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak RSS) of ``pid`` and its descendants, in MiB (Linux /proc)."""
    kib = 0
    for each in set(_descendants(pid)):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    kib += int(line.split()[1])
    return round(kib / 1024, 1)


class _Processes:
    """``resumeflow <argv>`` subprocesses with one environment, each logging to a file."""

    def __init__(self, env: Mapping[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, argv: list[str], extra: Mapping[str, str] = {}) -> int:
        command = [str(Path(sys.executable).parent / "resumeflow"), *argv]
        with (self.log_dir / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                command,
                env={**os.environ, **self.env, **extra},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running.append(process)
        return process.pid

    def check(self) -> None:
        for process in self.running:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited with {process.returncode}")

    def stop(self, pids: list[int] | None = None) -> None:
        chosen = [p for p in self.running if pids is None or p.pid in pids]
        for process in chosen:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in chosen:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            self.running.remove(process)


@dataclass
class _Run:
    """One measured run: when each application started and was seen ending, and its events."""

    label: str
    started: dict[UUID, tuple[float, Resume]] = field(default_factory=dict)
    seen: list[tuple[float, UUID]] = field(default_factory=list)
    failed: int = 0
    elapsed: float = 0.0
    cpu: float = 0.0
    latency: dict[UUID, float] = field(default_factory=dict)
    gaps: dict[str, list[float]] = field(default_factory=dict)

    def rate(self, in_flight: int) -> float:
        """``apps_per_s`` (module docstring)."""
        times = sorted(t for t, _ in self.seen)
        rounds = (len(times) - 2 * in_flight) // in_flight
        if rounds < 1:
            return len(times) / self.elapsed
        first, last = in_flight - 1, in_flight - 1 + rounds * in_flight
        return rounds * in_flight / (times[last] - times[first])

    def latencies(self, scan: bool | None = None) -> list[float]:
        return [
            seconds
            for app, seconds in self.latency.items()
            if scan is None or self.started[app][1].scan is scan
        ]


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


class _Producer:
    """Submits applications as the API does, and reads their ends on the feed."""

    def __init__(self, runtime: ApiRuntime, job_post_id: UUID) -> None:
        assert runtime.store is not None and runtime.redis is not None  # the distributed mode
        self.runtime = runtime
        self.redis = runtime.redis
        self.job_post_id = job_post_id
        self._feed: dict[str, str | bytes] = {key: "$" for key in runtime.store.feed_keys}
        self._run = _Run("idle")
        self._early: dict[UUID, tuple[float, bool]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._errors: list[BaseException] = []
        self._count = itertools.count()

    def _launch(self, resume: Resume) -> None:
        task = asyncio.create_task(self._submit(resume, time.time()))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._errors.append(cast(BaseException, task.exception()))

    async def _submit(self, resume: Resume, started: float) -> None:
        n = next(self._count)
        command = SubmitApplication(
            job_post_id=self.job_post_id,
            email=f"applicant{n}@example.com",
            name=f"Applicant {n}",
            filename=resume.name,
            data=resume.data,
        )
        accepted = await submit_application(self.runtime.services, command, self.runtime.dispatcher)
        self._run.started[accepted.application_id] = (started, resume)
        early = self._early.pop(accepted.application_id, None)
        if early is not None:
            self._ended(accepted.application_id, *early)

    def _ended(self, application_id: UUID, at: float, failed: bool) -> None:
        self._run.seen.append((at, application_id))
        self._run.failed += failed

    async def _read_feed(self) -> None:
        reply = cast(
            list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]],
            await self.redis.xread(dict(self._feed), count=5000, block=200),  # type: ignore[arg-type]
        )
        now = time.time()
        for key, entries in reply or []:
            for entry_id, fields in entries:
                self._feed[key.decode()] = entry_id
                kind = fields.get(b"type")
                if kind not in TERMINAL:
                    continue
                application_id = UUID(fields[b"application_id"].decode())
                failed = kind == b"application.failed"
                if application_id in self._run.started:
                    self._ended(application_id, now, failed)
                else:
                    self._early[application_id] = (now, failed)

    async def run(
        self, label: str, resumes: Iterator[Resume], count: int, in_flight: int, give_up: float
    ) -> _Run:
        """Keep ``in_flight`` applications in flight until ``count`` have ended."""
        self._run = run = _Run(label)
        self._early.clear()
        began = time.time()
        submitted = min(in_flight, count)
        for _ in range(submitted):
            self._launch(next(resumes))
        refilled = 0  # ended applications already replaced (some end before their submit returns)
        while len(run.seen) < count:
            if self._errors:
                raise self._errors[0]
            if time.time() - began > give_up:
                raise TimeoutError(f"{label}: {count - len(run.seen)} applications still running")
            await self._read_feed()
            refill = min(len(run.seen) - refilled, count - submitted)
            refilled = len(run.seen)
            for _ in range(refill):
                self._launch(next(resumes))
            submitted += refill
        run.elapsed = time.time() - began
        return run

    async def read_events(self, run: _Run) -> None:
        """Each application's latency and stage gaps, from its events' times."""
        ids = list(run.started)
        for start in range(0, len(ids), 100):
            chunk = ids[start : start + 100]
            histories = await asyncio.gather(*(self.runtime.services.events.read(a) for a in chunk))
            for application_id, history in zip(chunk, histories, strict=True):
                _record(run, application_id, history)


def _record(run: _Run, application_id: UUID, history: list[EventEnvelope]) -> None:
    times = [e.occurred_at.timestamp() for e in history]
    run.latency[application_id] = times[-1] - times[0]
    for event, (before, after) in zip(history[1:], itertools.pairwise(times), strict=True):
        run.gaps.setdefault(event.type.removeprefix("application."), []).append(after - before)


def _environment(
    redis_url: str, postgres_url: str, cloud_url: str, data: Path, latencies: Latencies
) -> dict[str, str]:
    """What a deployment on this fake cloud sets; everything else keeps its default."""
    return {
        "RESUMEFLOW_ENVIRONMENT": "production",
        "RESUMEFLOW_REDIS_URL": redis_url,
        "RESUMEFLOW_BROKER_URL": redis_url.rsplit("/", 1)[0] + "/1",
        "RESUMEFLOW_DATABASE_URL": postgres_url,
        "RESUMEFLOW_DATA_DIR": str(data),
        "RESUMEFLOW_BLOB_STORE": "real",
        "RESUMEFLOW_EXTRACTOR": "real",
        "RESUMEFLOW_PARSER": "real",
        "RESUMEFLOW_EMBEDDER": "real",
        "RESUMEFLOW_S3_BUCKET": BUCKET,
        "RESUMEFLOW_S3_ENDPOINT_URL": cloud_url,
        "RESUMEFLOW_TEXTRACT_ENDPOINT_URL": cloud_url,
        "RESUMEFLOW_TEXTRACT_POLL_SECONDS": str(latencies.textract_poll),
        "RESUMEFLOW_GEMINI_BASE_URL": cloud_url,
        "RESUMEFLOW_GEMINI_API_KEY": "bench-key",
        "RESUMEFLOW_GEMINI_RATE_PER_MINUTE": "1000000",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "OTEL_TRACES_EXPORTER": "none",
    }


@contextlib.contextmanager
def _applied(env: Mapping[str, str]) -> Iterator[None]:
    """``env`` in ``os.environ`` for the block (this process reads settings and AWS keys)."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


async def _wait_workers(settings: Settings, names: list[str], within: float = 90.0) -> None:
    app = create_celery(settings)
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            replies = await asyncio.to_thread(app.control.ping, timeout=0.5)
            seen = {name.split("@")[0] for reply in replies or [] for name in reply}
            if set(names) <= seen:
                return
        raise TimeoutError(f"workers {names} did not answer a ping within {within} s")
    finally:
        app.close()


async def _projected(runtime: ApiRuntime, expected: int, within: float = 120.0) -> int:
    """Terminal applications in the read model, once it has them all (or ``within`` passed)."""
    query = text("SELECT count(*) FROM applications WHERE status IN ('completed', 'failed')")
    deadline = time.monotonic() + within
    while True:
        async with runtime.engine.connect() as conn:
            count = int((await conn.execute(query)).scalar_one())
        if count >= expected or time.monotonic() > deadline:
            return count
        await asyncio.sleep(0.5)


def _median(values: list[float], digits: int = 3) -> float:
    return round(statistics.median(values), digits)


@dataclass
class _Options:
    applications: int
    in_flight: int
    workers: int
    rounds: int
    warmup: int
    scan_share: float
    tracing: bool
    text_only: bool
    resumes: Path | None
    give_up_after: float


class _Bench:
    """The rounds of runs on one site (module docstring)."""

    def __init__(
        self, producer: _Producer, processes: _Processes, settings: Settings, cloud_url: str,
        options: _Options,
    ) -> None:  # fmt: skip
        self.producer = producer
        self.processes = processes
        self.settings = settings
        self.cloud_url = cloud_url
        self.o = options
        self.runs: dict[str, list[_Run]] = {"mixed": [], "text": [], "traced": []}
        self.rss: list[float] = []
        self.warmed = 0

    async def _run(self, label: str, count: int, in_flight: int) -> _Run:
        share = 0.0 if label == "text" else self.o.scan_share
        resumes = mixed(share, self.o.resumes)
        return await self.producer.run(label, resumes, count, in_flight, self.o.give_up_after)

    async def _measure(self, label: str, pids: list[int]) -> None:
        before = cpu_seconds(pids)
        run = await self._run(label, self.o.applications, self.o.in_flight)
        run.cpu = cpu_seconds(pids) - before
        self.processes.check()
        await self.producer.read_events(run)
        self.runs[label].append(run)

    async def _workers(self, n: int, traced: bool) -> None:
        """Start the workers (traced or not), warm them up, measure, stop them."""
        extra = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": self.cloud_url}
        names = [f"bench{w}r{n}{'t' if traced else ''}" for w in range(self.o.workers)]
        pids = [
            self.processes.start(name, ["worker", f"--hostname={name}@%h"], extra if traced else {})
            for name in names
        ]
        try:
            await _wait_workers(self.settings, names)
            if self.o.warmup:
                await self._run("warmup", self.o.warmup, min(self.o.warmup, self.o.in_flight))
                self.warmed += self.o.warmup
            labels = ["traced"] if traced else ["mixed"]
            if not traced and self.o.text_only:
                labels = ["mixed", "text"] if n % 2 == 0 else ["text", "mixed"]
            for label in labels:
                await self._measure(label, pids)
            if not traced:
                self.rss.extend(peak_rss_mb(pid) for pid in pids)
        finally:
            self.processes.stop(pids)

    async def run(self) -> None:
        for n in range(self.o.rounds):
            sides = [False, True] if self.o.tracing else [False]
            for traced in sides if n % 2 == 0 else sides[::-1]:
                await self._workers(n, traced)

    @property
    def submitted(self) -> int:
        return self.warmed + sum(len(r.started) for rs in self.runs.values() for r in rs)


async def bench_pipeline(
    *,
    applications: int = 1000,
    in_flight: int = 200,
    workers: int = 2,
    rounds: int = 3,
    warmup: int = 100,
    scan_share: float = 0.1,
    latencies: Latencies | None = None,
    tracing: bool = True,
    text_only: bool = True,
    job_post: Path | None = None,
    resumes: Path | None = None,
    give_up_after: float = 900.0,
) -> dict[str, Any]:
    """Run the rounds (module docstring) on throwaway servers; one flat dict of figures."""
    latencies = latencies or Latencies()
    options = _Options(
        applications, in_flight, workers, rounds, warmup, scan_share, tracing, text_only,
        resumes, give_up_after,
    )  # fmt: skip
    job_text = (job_post or EXAMPLES / "job-backend-engineer.txt").read_text()
    with (
        tempfile.TemporaryDirectory(prefix="rf-bench-pipeline-") as tmp,
        servers(None, None, durable=True) as (postgres_url, redis_url),
        FakeCloud(Path(tmp) / "cloud.log", **latencies.fake_options()) as cloud,
    ):
        cloud.create_bucket(BUCKET)
        env = _environment(redis_url, postgres_url, cloud.url, Path(tmp) / "data", latencies)
        with _applied(env):
            settings = Settings()
        engine = create_engine(settings.database_url)
        await upgrade(engine)
        await engine.dispose()
        processes = _Processes(env, Path(tmp))
        processes.start("projector", ["projector"])
        try:
            with _applied(env):
                async with api_runtime(settings, resume=False) as runtime:
                    job = job_post_from_text(job_text, job_post_id=uuid4())
                    await runtime.job_posts.add(job)
                    producer = _Producer(runtime, job.id)
                    bench = _Bench(producer, processes, settings, cloud.url, options)
                    await bench.run()
                    projected = await _projected(runtime, bench.submitted)
        finally:
            processes.stop()
    slots = workers * settings.workers.worker_concurrency
    report = _report(bench.runs, bench.rss, latencies, in_flight, slots)
    return {
        "applications": applications,
        "in_flight": in_flight,
        "workers": workers,
        "concurrency": settings.workers.worker_concurrency,
        "rounds": rounds,
        "warmup": warmup,
        "scan_share": scan_share,
        "latencies_s": dict(vars(latencies)),
        "submitted": bench.submitted,
        "projected_terminal": projected,
        **report,
    }


def _report(
    runs: dict[str, list[_Run]], rss: list[float], latencies: Latencies, in_flight: int, slots: int
) -> dict[str, Any]:
    mixed_runs = runs["mixed"]
    sample = [resume for run in mixed_runs for _, resume in run.started.values()]
    ideal, waited = ideal_rate(latencies, sample, in_flight, slots)
    rates = [run.rate(in_flight) for run in mixed_runs]
    every = [s for run in mixed_runs for s in run.latencies()]
    report: dict[str, Any] = {
        "completed": sum(len(r.seen) - r.failed for rs in runs.values() for r in rs),
        "failed": sum(r.failed for rs in runs.values() for r in rs),
        "measured": sum(len(r.started) for rs in runs.values() for r in rs),
        "apps_per_s": _median(rates, 2),
        "apps_per_s_by_round": [round(r, 2) for r in rates],
        "ideal_latency_s": round(waited, 4),
        "ideal_bound": "in_flight" if ideal == in_flight / waited else "worker_threads",
        "ideal_apps_per_s": round(ideal, 2),
        "ideal_in_flight_apps_per_s": round(in_flight / waited, 2),
        "ratio_to_ideal": _median([r / ideal for r in rates]),
        "cpu_ms_per_application": _median(
            [1000 * r.cpu / max(1, len(r.seen)) for r in mixed_runs], 2
        ),
        "worker_cpu_per_s": _median([r.cpu / r.elapsed for r in mixed_runs]),
        "peak_rss_mb": max(rss),
        "peak_rss_mb_by_worker": rss,
        "latency_p50_s": _median([statistics.median(r.latencies()) for r in mixed_runs]),
        "latency_p95_s": round(_p(every, 0.95), 3),
        "scan_latency_p95_s": _median([_p(r.latencies(scan=True), 0.95) for r in mixed_runs])
        if any(r.latencies(scan=True) for r in mixed_runs)
        else None,
        "stage_seconds": {
            kind: round(statistics.fmean(v for r in mixed_runs for v in r.gaps.get(kind, [])), 3)
            for kind in mixed_runs[0].gaps
        },
    }
    if runs["text"]:
        mixed_p95 = [_p(r.latencies(scan=False), 0.95) for r in mixed_runs]
        text_p95 = [_p(r.latencies(), 0.95) for r in runs["text"]]
        report |= {
            "text_p95_mixed_s": _median(mixed_p95),
            "text_p95_text_only_s": _median(text_p95),
            "text_p95_latency_ratio": _median(
                [m / t for m, t in zip(mixed_p95, text_p95, strict=True)]
            ),
            "text_only_apps_per_s": _median([r.rate(in_flight) for r in runs["text"]], 2),
        }
    if runs["traced"]:
        traced = [r.rate(in_flight) for r in runs["traced"]]
        report |= {
            "traced_apps_per_s": _median(traced, 2),
            "tracing_overhead": _median([t / m for t, m in zip(traced, rates, strict=True)]),
            "traced_cpu_ms_per_application": _median(
                [1000 * r.cpu / max(1, len(r.seen)) for r in runs["traced"]], 2
            ),
        }
    return report
