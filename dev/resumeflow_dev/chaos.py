"""``resumeflow chaos``: applications through the distributed mode while its processes die and its
servers restart; then what was lost, duplicated or projected wrong.

The system is what an operator runs: durable servers (Redis with AOF everysec, Postgres with
fsync), ``resumeflow migrate``, two ``resumeflow worker`` processes (beat and the sweeper on the
first), ``resumeflow projector`` and ``resumeflow api``, each configured only through the
environment, with their defaults except the sweeper's threshold (``--stuck-after``, so a run
ends in minutes). Applications are submitted over HTTP at a steady rate, each with its own
Idempotency-Key and retried until accepted, as a careful client does.

Meanwhile faults land at random moments (seeded): SIGKILL to a worker's or the projector's
process group (started again at once, as a supervisor would), and restarts of Redis and
Postgres (stopped, down for a few seconds, started on the same data). A worker that exits
without being killed counts in ``worker_exits`` and is started again.

Then every accepted application must end. The report: ``accepted``, ``completed``, ``failed``
(by reason), ``lost`` (accepted, not terminal after ``--settle``), ``duplicate_stage_events``
(a stage's success recorded twice), ``projection_mismatches`` (``resumeflow verify``'s
differences), ``worker_exits``, ``recovery_p95_s`` (per worker kill: until every application in
flight at the kill has moved on) and ``stall_after_restart_s`` (p95, per server restart: from the
server's return to the next event).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
import httpx
import pypdfium2 as pdfium
import typer

from resumeflow_dev.fakes.process import FakeCloud
from resumeflow_dev.servers import PostgresServer, RedisServer, free_port

__all__ = ["ChaosPlan", "chaos_app", "run_chaos"]

BIN = Path(sys.executable).parent / "resumeflow"
_RESUME = Path(__file__).resolve().parents[2] / "examples" / "resume.pdf"
_SUCCESS = (
    "application.stored",
    "application.text_extracted",
    "application.parsed",
    "application.embedded",
    "application.scored",
    "application.completed",
)
_TERMINAL = ("completed", "failed")
_BUCKET = "resumeflow-chaos"
_BUGS = ("unexpected_error",)
"""Failure reasons that are never the right end of a good resume (the injected faults' reasons,
such as ``malformed_llm_output`` after a bad answer, are)."""


@dataclass(frozen=True)
class ChaosPlan:
    applications: int = 500
    rate: float = 5.0
    worker_kills: int = 20
    projector_kills: int = 5
    redis_restarts: int = 2
    postgres_restarts: int = 2
    outage_seconds: float = 3.0
    stuck_after_seconds: float = 120.0
    settle_seconds: float = 600.0
    seed: int = 7
    cloud: bool = True
    gemini_fault_rate: float = 0.1
    s3_fault_rate: float = 0.05


@dataclass
class Fault:
    kind: str
    at: float
    back_at: float = 0.0


@dataclass
class _Run:
    plan: ChaosPlan
    workdir: Path
    redis: RedisServer = field(init=False)
    pg: PostgresServer = field(init=False)
    env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    killing: set[str] = field(default_factory=set)
    worker_exits: int = 0
    api_port: int = field(default_factory=free_port)
    faults: list[Fault] = field(default_factory=list)
    cloud: FakeCloud | None = None

    def __post_init__(self) -> None:
        self.redis = RedisServer.durable(self.workdir / "redis")
        self.pg = PostgresServer.durable()  # a directory of its own, which its owner can reach
        if self.plan.cloud:
            self.cloud = FakeCloud(
                self.workdir / "cloud.log",
                gemini_fault_rate=self.plan.gemini_fault_rate,
                s3_fault_rate=self.plan.s3_fault_rate,
                seed=self.plan.seed,
            )

    # -- processes ---------------------------------------------------------------------------

    def commands(self) -> dict[str, list[str]]:
        return {
            "worker-1": ["worker", "--hostname", "chaos-1@%h", "--beat"],
            "worker-2": ["worker", "--hostname", "chaos-2@%h"],
            "projector": ["projector", "--consumer-name", "chaos-projector"],
            "api": ["api", "--port", str(self.api_port)],
        }

    def start(self, name: str) -> None:
        with (self.workdir / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                [str(BIN), *self.commands()[name]],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: a kill takes its children too
            )

    def kill(self, name: str) -> None:
        process = self.processes[name]
        self.killing.add(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        self.start(name)
        self.killing.discard(name)

    def watch(self) -> None:
        """Start again any worker that exited by itself, and count it."""
        for name, process in list(self.processes.items()):
            if name not in self.killing and process.poll() is not None:
                if name.startswith("worker"):
                    self.worker_exits += 1
                self.start(name)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.redis.stop()
        self.pg.cleanup()
        if self.cloud is not None:
            self.cloud.stop()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN), *args], env=self.env, capture_output=True, text=True, timeout=600
        )

    def up(self) -> None:
        self.redis.start()
        self.pg.start()
        host = self.redis.url.rsplit("/", 1)[0]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RESUMEFLOW_", "OTEL_"))}
        self.env = env | {
            "RESUMEFLOW_DATA_DIR": str(self.workdir / "data"),
            "RESUMEFLOW_DATABASE_URL": self.pg.url,
            "RESUMEFLOW_REDIS_URL": f"{host}/0",
            "RESUMEFLOW_BROKER_URL": f"{host}/1",
            "RESUMEFLOW_STUCK_AFTER_SECONDS": str(self.plan.stuck_after_seconds),
            "OMP_THREAD_LIMIT": "1",
        }
        if self.cloud is not None:  # the real clients, on the fake cloud with its faults
            self.cloud.start()
            self.cloud.create_bucket(_BUCKET)
            self.env |= {
                "RESUMEFLOW_BLOB_STORE": "real",
                "RESUMEFLOW_EXTRACTOR": "real",
                "RESUMEFLOW_PARSER": "real",
                "RESUMEFLOW_EMBEDDER": "real",
                "RESUMEFLOW_S3_BUCKET": _BUCKET,
                "RESUMEFLOW_S3_ENDPOINT_URL": self.cloud.url,
                "RESUMEFLOW_TEXTRACT_ENDPOINT_URL": self.cloud.url,
                "RESUMEFLOW_GEMINI_BASE_URL": self.cloud.url,
                "RESUMEFLOW_GEMINI_API_KEY": "chaos-key",
                "AWS_ACCESS_KEY_ID": "chaos",
                "AWS_SECRET_ACCESS_KEY": "chaos",
            }
        migrated = self.cli("migrate")
        if migrated.returncode:
            raise RuntimeError(f"resumeflow migrate: {migrated.stderr}")
        for name in self.commands():
            self.start(name)

    # -- faults ------------------------------------------------------------------------------

    def schedule(self, span: float) -> list[tuple[float, str]]:
        rng = random.Random(self.plan.seed)
        kinds = (
            ["worker"] * self.plan.worker_kills
            + ["projector"] * self.plan.projector_kills
            + ["redis"] * self.plan.redis_restarts
            + ["postgres"] * self.plan.postgres_restarts
        )
        times = sorted(rng.uniform(0.05 * span, span) for _ in kinds)
        rng.shuffle(kinds)
        return list(zip(times, kinds, strict=True))

    def fault(self, kind: str, rng: random.Random) -> None:
        fault = Fault(kind, time.time())
        if kind == "worker":
            self.kill(rng.choice(["worker-1", "worker-2"]))
        elif kind == "projector":
            self.kill("projector")
        else:
            server = self.redis if kind == "redis" else self.pg
            server.stop()
            time.sleep(self.plan.outage_seconds)
            server.start()
        fault.back_at = time.time()
        self.faults.append(fault)


async def _ready(url: str, run: _Run, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        while time.monotonic() < deadline:
            run.watch()
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise RuntimeError("the API did not become ready")


@cache
def _scan() -> bytes:
    """The example resume's first page as a PNG: what a scanner returns (OCR's path)."""
    document = pdfium.PdfDocument(_RESUME.read_bytes())
    try:
        image = document[0].render(scale=150 / 72).to_pil().convert("L")
    finally:
        document.close()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


async def _submit(client: httpx.AsyncClient, job: str, n: int, accepted: dict[int, UUID]) -> None:
    """One application, retried with its key until the API accepts it (or 5 minutes pass); one
    in ten is a scan."""
    if n % 10 == 9:
        name, data, kind = "scan.png", _scan(), "image/png"
    else:
        unique = _RESUME.read_bytes() + f"\n% {n}\n".encode()
        name, data, kind = "resume.pdf", unique, "application/pdf"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            answer = await client.post(
                "/v1/applications",
                headers={"Idempotency-Key": f"chaos-{n}"},
                data={"name": f"Applicant {n}", "email": f"a{n}@example.com", "job_post_id": job},
                files={"file": (name, data, kind)},
            )
            if answer.status_code == 202:
                accepted[n] = UUID(answer.json()["id"])
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(1.0)


async def _terminal(dsn: str, ids: list[UUID]) -> int:
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError):
        return -1
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM applications WHERE id = any($1) AND status = any($2)",
                ids,
                list(_TERMINAL),
            )
        )
    finally:
        await conn.close()


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2)


async def _outcome(run: _Run, ids: list[UUID]) -> dict[str, Any]:
    conn = await asyncpg.connect(run.pg.dsn)
    try:
        rows = await conn.fetch(
            "SELECT id, status, failure_stage, failure_reason, failure_detail FROM applications "
            "WHERE id = any($1)",
            ids,
        )
        duplicates = await conn.fetchval(
            "SELECT count(*) FROM (SELECT application_id, type FROM events "
            "WHERE application_id = any($1) AND type = any($2) "
            "GROUP BY application_id, type HAVING count(*) > 1) AS twice",
            ids,
            list(_SUCCESS),
        )
        events = await conn.fetch(
            "SELECT application_id, type, extract(epoch FROM occurred_at) AS at FROM events "
            "WHERE application_id = any($1) ORDER BY occurred_at",
            ids,
        )
    finally:
        await conn.close()
    status = {row["id"]: row["status"] for row in rows}
    failures = [row for row in rows if row["status"] == "failed"]
    return {
        "completed": sum(1 for s in status.values() if s == "completed"),
        "failed": dict(Counter(row["failure_reason"] for row in failures)),
        "failure_examples": sorted(
            {f"{r['failure_stage']}: {r['failure_detail']}"[:300] for r in failures}
        )[:5],
        "lost": sum(1 for app in ids if status.get(app) not in _TERMINAL),
        "duplicate_stage_events": int(duplicates),
        **_recovery(run.faults, events),
    }


def _recovery(faults: list[Fault], events: list[Any]) -> dict[str, Any]:
    times: dict[UUID, list[float]] = {}
    ends: dict[UUID, float] = {}
    for event in events:
        times.setdefault(event["application_id"], []).append(float(event["at"]))
        if event["type"] in ("application.completed", "application.failed"):
            ends[event["application_id"]] = float(event["at"])
    recoveries, stalls = [], []
    for fault in faults:
        if fault.kind == "worker":
            waits = []
            for app, seen in times.items():
                if seen[0] < fault.at and ends.get(app, float("inf")) > fault.at:
                    after = [t for t in seen if t > fault.at]
                    if after:
                        waits.append(after[0] - fault.at)
            if waits:
                recoveries.append(max(waits))
        elif fault.kind in ("redis", "postgres"):
            later = [t for seen in times.values() for t in seen if t > fault.back_at]
            in_flight = any(
                seen[0] < fault.back_at and ends.get(app, float("inf")) > fault.back_at
                for app, seen in times.items()
            )
            if later and in_flight:
                stalls.append(min(later) - fault.back_at)
    return {
        "recovery_p95_s": _p95(recoveries),
        "recovery_s": sorted(round(r, 1) for r in recoveries),
        "stall_after_restart_s": _p95(stalls),
    }


async def run_chaos(plan: ChaosPlan, workdir: Path) -> dict[str, Any]:
    run = _Run(plan, workdir)
    started = time.monotonic()
    run.up()
    try:
        url = f"http://127.0.0.1:{run.api_port}"
        await _ready(url, run)
        key = run.cli("keys", "create", "--role", "operator", "--name", "chaos").stdout.strip()
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as client:
            job = (
                await client.post(
                    "/v1/job-posts",
                    json={"title": "Backend engineer", "description": "Python, SQL, Redis"},
                )
            ).json()["id"]
            accepted: dict[int, UUID] = {}
            span = plan.applications / plan.rate
            t0 = time.monotonic()
            submits = []
            faults = asyncio.create_task(_faults(run, span))
            for n in range(plan.applications):
                await asyncio.sleep(max(0.0, t0 + n / plan.rate - time.monotonic()))
                run.watch()
                submits.append(asyncio.create_task(_submit(client, job, n, accepted)))
            await asyncio.gather(*submits)
            await faults
        ids = list(accepted.values())
        deadline = time.monotonic() + plan.settle_seconds
        while time.monotonic() < deadline:
            run.watch()
            if await _terminal(run.pg.dsn, ids) == len(ids):
                break
            await asyncio.sleep(1.0)
        verified = run.cli("verify", "--json", "--settle", "30")
        verify = json.loads(verified.stdout) if verified.stdout.strip() else {"differences": {}}
        outcome = await _outcome(run, ids)
    finally:
        run.stop_all()
    kinds = verify.get("differences", {})
    return {
        "config": asdict(plan),
        "accepted": len(ids),
        **{k: outcome[k] for k in ("completed", "failed", "lost", "duplicate_stage_events")},
        "failure_examples": outcome["failure_examples"],
        "projection_mismatches": sum(n for kind, n in kinds.items() if kind != "stuck"),
        "verify": kinds,
        "worker_exits": run.worker_exits,
        "recovery_p95_s": outcome["recovery_p95_s"],
        "recovery_s": outcome["recovery_s"],
        "stall_after_restart_s": outcome["stall_after_restart_s"],
        "faults": Counter(f.kind for f in run.faults),
        "seconds": round(time.monotonic() - started, 1),
    }


async def _faults(run: _Run, span: float) -> None:
    rng = random.Random(run.plan.seed + 1)
    t0 = time.monotonic()
    for at, kind in run.schedule(span):
        await asyncio.sleep(max(0.0, t0 + at - time.monotonic()))
        await asyncio.to_thread(run.fault, kind, rng)


chaos_app = typer.Typer(add_completion=False)


@chaos_app.callback(invoke_without_command=True)
def chaos(
    applications: Annotated[int, typer.Option(min=1)] = 500,
    rate: Annotated[float, typer.Option(help="submits per second")] = 5.0,
    worker_kills: int = 20,
    projector_kills: int = 5,
    redis_restarts: int = 2,
    postgres_restarts: int = 2,
    stuck_after: Annotated[float, typer.Option(help="the sweeper's threshold, seconds")] = 120.0,
    settle: Annotated[float, typer.Option(help="seconds to wait for every end")] = 600.0,
    seed: int = 7,
    cloud: Annotated[
        bool, typer.Option(help="real S3/Textract/Gemini clients on the fake cloud, or local")
    ] = True,
    gemini_fault_rate: Annotated[float, typer.Option(help="429/500/hang/bad JSON")] = 0.1,
    s3_fault_rate: Annotated[float, typer.Option(help="503 SlowDown")] = 0.05,
    keep_logs: Annotated[bool, typer.Option(help="keep the logs on success too")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run applications through the distributed mode under faults; report what survived."""
    plan = ChaosPlan(
        applications=applications,
        rate=rate,
        worker_kills=worker_kills,
        projector_kills=projector_kills,
        redis_restarts=redis_restarts,
        postgres_restarts=postgres_restarts,
        stuck_after_seconds=stuck_after,
        settle_seconds=settle,
        seed=seed,
        cloud=cloud,
        gemini_fault_rate=gemini_fault_rate,
        s3_fault_rate=s3_fault_rate,
    )
    workdir = Path(tempfile.mkdtemp(prefix="rf-chaos-"))
    report = asyncio.run(run_chaos(plan, workdir))
    if as_json:
        print(json.dumps(report))
    else:
        for name, value in report.items():
            print(f"{name:24} {value}")
    # every resume submitted is a good one: only an injected fault may end one failed
    bad = report["lost"] or report["duplicate_stage_events"] or report["projection_mismatches"]
    if bad or report["worker_exits"] or set(report["failed"]) & set(_BUGS):
        print(f"the processes' logs are in {workdir}", file=sys.stderr)
        raise typer.Exit(1)
    if keep_logs:
        print(f"the processes' logs are in {workdir}", file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
