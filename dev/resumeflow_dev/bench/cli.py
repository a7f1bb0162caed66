"""``resumeflow bench``: the benchmarks, as CLI commands (mounted under the main CLI).

Each command runs against servers you name, prints a Rich table, or with ``--json`` exactly one
JSON object on stdout (for scripts and CI trend lines).
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from resumeflow_dev.bench.api import bench_api
from resumeflow_dev.bench.append import run_append_bench
from resumeflow_dev.bench.common import servers
from resumeflow_dev.bench.pipeline import Latencies, bench_pipeline
from resumeflow_dev.bench.project import bench_project
from resumeflow_dev.bench.query import bench_query
from resumeflow_dev.bench.rebuild import bench_rebuild

__all__ = ["bench_app"]

bench_app = typer.Typer(
    help="Benchmarks: run them against the servers you configure.",
    no_args_is_help=True,
    add_completion=False,
)


@bench_app.callback()
def bench() -> None:
    """Benchmarks: run them against the servers you configure."""


FLOORS = {"ratio_single": 0.6, "ratio_batch": 0.7}
"""What the store must keep of raw XADD's throughput (issue 3)."""


def _default_redis_url() -> str:
    return os.environ.get("RESUMEFLOW_REDIS_URL", "redis://127.0.0.1:6379/0")


@bench_app.command()
def append(
    redis_url: Annotated[
        str,
        typer.Option(
            default_factory=_default_redis_url,
            help="Redis to run against (default: $RESUMEFLOW_REDIS_URL, else "
            "redis://127.0.0.1:6379/0); keys go under a fresh prefix and are deleted after",
            show_default=False,
        ),
    ],
    events: Annotated[int, typer.Option(min=1, help="events per mode and round")] = 10_000,
    batch_size: Annotated[int, typer.Option(min=1, help="events per batched round trip")] = 100,
    concurrency: Annotated[int, typer.Option(min=1, help="concurrent producer tasks")] = 16,
    rounds: Annotated[int, typer.Option(min=1, help="rounds; figures are medians")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Event store appends (single with version check; batched) beside raw XADD."""
    result = asyncio.run(
        run_append_bench(
            redis_url,
            events=events,
            batch_size=batch_size,
            concurrency=concurrency,
            rounds=rounds,
        )
    )
    if as_json:
        typer.echo(json.dumps(result))
        return
    table = Table(title=f"append: {int(result['events'])} events x {rounds} rounds, "
                  f"{concurrency} tasks, batches of {int(result['batch_size'])}")  # fmt: skip
    table.add_column("mode")
    table.add_column("event store, events/s", justify="right")
    table.add_column("raw XADD, events/s", justify="right")
    table.add_column("ratio", justify="right")
    table.add_column("floor", justify="right")
    for mode in ("single", "batch"):
        ratio = result[f"ratio_{mode}"]
        floor = FLOORS[f"ratio_{mode}"]
        table.add_row(
            mode,
            f"{result[f'{mode}_rate']:,.0f}",
            f"{result[f'raw_{mode}_rate']:,.0f}",
            f"[{'green' if ratio >= floor else 'red'}]{ratio:.2f}[/]",
            f"{floor:.2f}",
        )
    Console().print(table)


PIPELINE_FLOORS = {
    "ratio_to_ideal": (">=", 0.8),
    "cpu_ms_per_application": ("<=", 25.0),
    "peak_rss_mb": ("<=", 300.0),
    "text_p95_latency_ratio": ("<=", 1.2),
}
"""Issue 15: at 200 in flight and 2 workers; ``peak_rss_mb`` is per worker."""
PIPELINE_ROWS = {
    "ratio_to_ideal": ("apps_per_s", "ideal_apps_per_s"),
    "cpu_ms_per_application": ("worker_cpu_per_s",),
    "peak_rss_mb": ("peak_rss_mb_by_worker",),
    "text_p95_latency_ratio": ("text_p95_mixed_s", "text_p95_text_only_s"),
    "tracing_overhead": ("traced_apps_per_s", "apps_per_s"),
}
"""Each ratio and the raw figures it comes from, printed beside it."""


@bench_app.command()
def pipeline(
    applications: Annotated[int, typer.Option(min=1, help="applications per measured run")] = 1000,
    in_flight: Annotated[int, typer.Option(min=1, help="applications kept in flight")] = 200,
    workers: Annotated[int, typer.Option(min=1, help="worker processes")] = 2,
    rounds: Annotated[int, typer.Option(min=1, help="rounds of runs (medians over them)")] = 3,
    warmup: Annotated[int, typer.Option(min=0, help="applications after each worker start")] = 100,
    scan_share: Annotated[float, typer.Option(min=0, max=1, help="scans in the mix")] = 0.1,
    s3_ms: Annotated[float, typer.Option(min=0, help="the fake S3's latency")] = 20.0,
    textract_polls: Annotated[int, typer.Option(min=0, help="polls an OCR job stays busy")] = 3,
    textract_poll_ms: Annotated[float, typer.Option(min=1, help="between OCR polls")] = 300.0,
    gemini_ms: Annotated[float, typer.Option(min=0, help="the fake Gemini parse call")] = 800.0,
    embedding_ms: Annotated[float, typer.Option(min=0, help="the fake embedding call")] = 150.0,
    tracing: Annotated[
        bool, typer.Option("--tracing/--no-tracing", help="also run traced workers")
    ] = True,
    text_only: Annotated[
        bool, typer.Option("--text-only/--no-text-only", help="also run text documents only")
    ] = True,
    resumes: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            file_okay=False,
            help="a folder of résumés [default: ../shared/data/external/resumes, else examples/]",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """The distributed pipeline as deployed (workers, projector, real clients) on a fake cloud."""
    latencies = Latencies(
        s3=s3_ms / 1000,
        textract_polls=textract_polls,
        textract_poll=textract_poll_ms / 1000,
        gemini=gemini_ms / 1000,
        embedding=embedding_ms / 1000,
    )
    result = asyncio.run(
        bench_pipeline(
            applications=applications,
            in_flight=in_flight,
            workers=workers,
            rounds=rounds,
            warmup=warmup,
            scan_share=scan_share,
            latencies=latencies,
            tracing=tracing,
            text_only=text_only,
            resumes=resumes,
        )
    )
    if as_json:
        typer.echo(json.dumps(result))
        return
    table = Table(title=f"pipeline: {applications} applications x {rounds} rounds, "
                  f"{in_flight} in flight, {workers} workers")  # fmt: skip
    for column in ("figure", "value", "floor", "from"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for key, sources in PIPELINE_ROWS.items():
        if key not in result:
            continue
        value = result[key]
        ok, floor = True, ""
        if key in PIPELINE_FLOORS:
            op, bound = PIPELINE_FLOORS[key]
            ok = value >= bound if op == ">=" else value <= bound
            floor = f"{op} {bound:g}"
        raw = ", ".join(f"{s} {result[s]}" for s in sources if s in result)
        table.add_row(key, f"[{'green' if ok else 'red'}]{value}[/]", floor, raw)
    Console().print(table)


BenchPostgres = Annotated[
    str | None, typer.Option("--postgres-url", help="a server to use [default: a throwaway one]")
]
BenchRedis = Annotated[
    str | None, typer.Option("--redis-url", help="a server to use [default: a throwaway one]")
]
AsJson = Annotated[bool, typer.Option("--json", help="print one JSON object")]


def _report(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result))
    else:
        Console().print_json(data=result)


@bench_app.command()
def project(
    postgres_url: BenchPostgres = None,
    redis_url: BenchRedis = None,
    applications: Annotated[int, typer.Option(help="applications (7 events each)")] = 5000,
    partitions: Annotated[
        int | None,
        typer.Option(min=1, max=256, help="feed partitions [default: the settings' default]"),
    ] = None,
    rate: Annotated[int, typer.Option(help="events per second for the lag run")] = 2000,
    seconds: Annotated[float, typer.Option(help="length of the lag run")] = 10.0,
    rounds: Annotated[int, typer.Option(min=1, help="rounds of each measurement")] = 3,
    as_json: AsJson = False,
) -> None:
    """`resumeflow projector` events/s beside a raw upsert; lag at a steady rate (durable)."""
    with servers(postgres_url, redis_url, durable=True) as (pg, redis):
        result = asyncio.run(
            bench_project(pg, redis, applications_count=applications, partitions=partitions,
                          rate=rate, lag_seconds=seconds, rounds=rounds)
        )  # fmt: skip
    _report(result, as_json)


@bench_app.command()
def api(
    postgres_url: BenchPostgres = None,
    redis_url: BenchRedis = None,
    rows: Annotated[int, typer.Option(help="applications in the table")] = 1_000_000,
    requests: Annotated[int, typer.Option(help="requests per query shape")] = 100,
    clients: Annotated[int, typer.Option(help="concurrent submitting clients")] = 200,
    seconds: Annotated[float, typer.Option(help="length of each submit run")] = 10.0,
    as_json: AsJson = False,
) -> None:
    """`resumeflow api` (distributed): query p50/p95 through HTTP; submits/s and their p95."""
    with servers(postgres_url, redis_url, durable=True) as (pg, redis):
        result = asyncio.run(
            bench_api(pg, redis, rows=rows, requests=requests, clients=clients, seconds=seconds)
        )
    _report(result, as_json)


@bench_app.command()
def query(
    postgres_url: BenchPostgres = None,
    rows: Annotated[int, typer.Option()] = 1_000_000,
    runs: Annotated[int, typer.Option(help="runs per shape with the indexes")] = 20,
    as_json: AsJson = False,
) -> None:
    """p50/p95 of each seed query shape with and without the performance indexes."""
    with servers(postgres_url, None, redis=False) as (pg, _):
        result = asyncio.run(bench_query(pg, rows=rows, runs=runs))
    _report(result, as_json)


@bench_app.command()
def rebuild(
    postgres_url: BenchPostgres = None,
    applications: Annotated[int, typer.Option(help="applications (7 events each)")] = 100_000,
    as_json: AsJson = False,
) -> None:
    """Seconds to rebuild the read models from a log of that many applications' events."""
    with servers(postgres_url, None, redis=False) as (pg, _):
        result = asyncio.run(bench_rebuild(pg, applications_count=applications))
    _report(result, as_json)


if __name__ == "__main__":  # python -m resumeflow_dev.bench.cli append ...
    bench_app()
