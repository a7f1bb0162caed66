"""``resumeflow bench api``: the HTTP API as clients meet it, at a million applications.

The API is ``resumeflow api`` in its own process, in the distributed mode, configured only
through the environment (API keys on; uploads parked on disk in its data directory; the Redis
Streams log and Celery's broker on a durable redis-server; Postgres with fsync on), beside a
``applications`` table of ``--rows`` synthetic rows (COPY; mostly finished applications, as a
live system's table is).

Queries: the four seed shapes through ``GET /v1/applications`` (newest first, pages of 50): by
status, by job post and status, by email, by created range; each shape alternates with the
others, ``--requests`` times, one request at a time (latency when nothing else runs). Prints
each shape's p50/p95 and ``max_p95_ms``.

Submits: ``--clients`` concurrent clients each post ``examples/resume.pdf`` (a distinct byte
appended per submit) for ``--seconds``: first back to back (the most the API accepts:
``submits_per_s``), then each client paced so together they offer half that rate, the load a
service is sized for (``submit_p95_ms``, with its p50). Nothing works the queue meanwhile: the
stages are not what this measures.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx

from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import upgrade
from resumeflow_dev.bench.common import drop_database, fresh_database, plain_dsn
from resumeflow_dev.bench.rows import EPOCH, SeedPlan, copy_rows
from resumeflow_dev.servers import free_port

__all__ = ["bench_api"]

_RESUME = Path(__file__).resolve().parents[3] / "examples" / "resume.pdf"
_FINISHED = (("completed", 0.97), ("failed", 0.03))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def _cli(env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "resumeflow", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    if process.returncode:
        raise RuntimeError(f"resumeflow {' '.join(args)}: {err.decode()}")
    return out.decode().strip()


async def _serve(env: dict[str, str], port: int, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "resumeflow", "api", "--port", str(port),
            env=env, stdout=out, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            try:
                if (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return process
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the API did not get ready:\n{log.read_text()}")  # noqa: ASYNC240


async def _queries(
    http: httpx.AsyncClient, plan: SeedPlan, key: str, requests: int
) -> dict[str, list[float]]:
    shapes: dict[str, dict[str, Any]] = {}
    timings: dict[str, list[float]] = {}
    for n in range(requests):
        start = EPOCH + timedelta(days=(n * 7) % 300)
        shapes = {
            "by_status": {"status": ("failed", "completed")[n % 2]},
            "by_job_post_and_status": {
                "job_post_id": str(plan.job_post_id(n % plan.job_posts)), "status": "completed",
            },
            "by_email": {"email": plan.email((n * 7919) % plan.rows)},
            "created_between": {
                "created_from": start.isoformat(),
                "created_to": (start + timedelta(days=7)).isoformat(),
            },
        }  # fmt: skip
        for name, params in shapes.items():
            began = time.perf_counter()
            answer = await http.get(
                "/v1/applications", params=params | {"limit": 50},
                headers={"Authorization": f"Bearer {key}"},
            )  # fmt: skip
            elapsed = (time.perf_counter() - began) * 1000
            answer.raise_for_status()
            if n:  # the first round warms the caches
                timings.setdefault(name, []).append(elapsed)
    return timings


async def _submits(
    http: httpx.AsyncClient, key: str, post: str, clients: int, seconds: float, rate: float | None
) -> tuple[int, float, list[float]]:
    """Accepted submits, the seconds they took, and each one's latency (ms)."""
    resume = _RESUME.read_bytes()
    latencies: list[float] = []
    accepted = 0
    counter = 0
    stop = time.monotonic() + seconds
    interval = clients / rate if rate else 0.0

    async def client(n: int) -> None:
        nonlocal accepted, counter
        next_at = time.monotonic() + (interval * n / clients if interval else 0)
        while time.monotonic() < stop:
            if interval:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
            counter += 1
            data = resume + f"\n%{counter}".encode()
            began = time.perf_counter()
            answer = await http.post(
                "/v1/applications",
                files={"file": ("resume.pdf", data, "application/pdf")},
                data={"name": "Bench Applicant", "email": "bench@example.org", "job_post_id": post},
                headers={"Authorization": f"Bearer {key}"},
            )
            latencies.append((time.perf_counter() - began) * 1000)
            if answer.status_code != 202:
                raise RuntimeError(f"submit answered {answer.status_code}: {answer.text}")
            accepted += 1

    began = time.monotonic()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return accepted, time.monotonic() - began, latencies


async def bench_api(
    postgres_url: str,
    redis_url: str,
    *,
    rows: int = 1_000_000,
    requests: int = 100,
    clients: int = 200,
    seconds: float = 10.0,
) -> dict[str, Any]:
    url = await fresh_database(postgres_url)
    try:
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()
        plan = replace(SeedPlan(rows=rows), statuses=_FINISHED)
        began = time.perf_counter()
        await copy_rows(plain_dsn(url), plan)
        seeded = time.perf_counter() - began
        with TemporaryDirectory(prefix="rf-bench-api-") as tmp:
            env = {k: v for k, v in os.environ.items() if not k.startswith("RESUMEFLOW_")} | {
                "RESUMEFLOW_DATABASE_URL": url,
                "RESUMEFLOW_REDIS_URL": redis_url,
                "RESUMEFLOW_STREAM_PREFIX": f"benchapi{os.getpid()}",
                "RESUMEFLOW_DATA_DIR": tmp,
            }
            reader = await _cli(env, "keys", "create", "--role", "reader")
            submitter = await _cli(env, "keys", "create", "--role", "submitter")
            operator = await _cli(env, "keys", "create", "--role", "operator")
            port = free_port()
            process = await _serve(env, port, Path(tmp) / "api.log")
            limits = httpx.Limits(max_connections=clients + 10)
            try:
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits
                ) as http:
                    timings = await _queries(http, plan, reader, requests)
                    post = await http.post(
                        "/v1/job-posts",
                        json={"title": "Backend Engineer", "description": "Python, PostgreSQL"},
                        headers={"Authorization": f"Bearer {operator}"},
                    )
                    post.raise_for_status()
                    post_id = post.json()["id"]
                    most, took, _ = await _submits(http, submitter, post_id, clients, seconds, None)
                    rate = most / took
                    paced, paced_took, latencies = await _submits(
                        http, submitter, post_id, clients, seconds, rate / 2
                    )
            finally:
                process.terminate()
                await process.wait()
    finally:
        await drop_database(url)
    shapes = {
        name: {
            "p50_ms": round(statistics.median(values), 2),
            "p95_ms": round(_percentile(values, 0.95), 2),
        }
        for name, values in timings.items()
    }
    return {
        "rows": rows,
        "seed_seconds": round(seeded, 1),
        "page_size": 50,
        "requests_per_shape": requests - 1,
        "shapes": shapes,
        "max_p95_ms": max(s["p95_ms"] for s in shapes.values()),
        "clients": clients,
        "submits_per_s": round(rate, 1),
        "submits_accepted": most,
        "paced_offered_per_s": round(rate / 2, 1),
        "paced_accepted_per_s": round(paced / paced_took, 1),
        "submit_p50_ms": round(statistics.median(latencies), 2),
        "submit_p95_ms": round(_percentile(latencies, 0.95), 2),
        "load_average": os.getloadavg()[0],
    }
