"""Commands of the distributed read side: the projector, rebuilds, stream status, benchmarks.

``register(app, bench)`` adds them to the main ``resumeflow`` app (cli/app.py calls it):

    resumeflow projector                 run the FastStream projector (until SIGINT/SIGTERM)
    resumeflow projections rebuild       rebuild the read models from the archive, swap them in
    resumeflow streams status [--json]   per group and partition: lag, pending, age, dead letters
    resumeflow bench project [--json]    projector throughput beside a raw upsert; lag at 2,000/s
    resumeflow bench query [--json]      seed query shapes at 1M rows, with and without indexes

Settings come from ``RESUMEFLOW_*`` variables (streams/settings.py); options override them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from resumeflow.bench.common import servers
from resumeflow.bench.project import bench_project
from resumeflow.bench.query import bench_query
from resumeflow.bench.rebuild import bench_rebuild
from resumeflow.bootstrap.projector import run_projector
from resumeflow.streams.database import create_engine
from resumeflow.streams.rebuild import rebuild
from resumeflow.streams.redis_client import create_redis
from resumeflow.streams.settings import ProjectorSettings
from resumeflow.streams.status import GroupStatus, stream_status

__all__ = ["register"]

out = Console()
AsJson = Annotated[bool, typer.Option("--json", help="print one JSON object")]
PostgresUrl = Annotated[
    str | None, typer.Option(help="SQLAlchemy URL [default: $RESUMEFLOW_POSTGRES_URL]")
]
RedisUrl = Annotated[str | None, typer.Option(help="[default: $RESUMEFLOW_REDIS_URL]")]
BenchPostgres = Annotated[
    str | None, typer.Option("--postgres-url", help="a server to use [default: a throwaway one]")
]
BenchRedis = Annotated[
    str | None, typer.Option("--redis-url", help="a server to use [default: a throwaway one]")
]
Spawn = Annotated[
    bool,
    typer.Option(
        "--spawn/--no-spawn",
        help="start throwaway redis-server and Postgres for the run (the default when no URL "
        "is given)",
    ),
]


def _settings(postgres_url: str | None = None, redis_url: str | None = None) -> ProjectorSettings:
    overrides: dict[str, Any] = {}
    if postgres_url:
        overrides["postgres_url"] = postgres_url
    if redis_url:
        overrides["redis_url"] = redis_url
    return ProjectorSettings(**overrides)


def projector(
    postgres_url: PostgresUrl = None,
    redis_url: RedisUrl = None,
    consumer_name: Annotated[
        str | None, typer.Option(help="stable per replica [default: the host name]")
    ] = None,
) -> None:
    """Run the projector: consumer groups on every feed partition, until SIGINT/SIGTERM."""
    settings = _settings(postgres_url, redis_url)
    if consumer_name:
        settings = settings.model_copy(update={"consumer_name": consumer_name})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(run_projector(settings))


def rebuild_command(postgres_url: PostgresUrl = None, as_json: AsJson = False) -> None:
    """Rebuild applications and stage timings from the events archive; swap them in."""
    settings = _settings(postgres_url)

    async def go() -> dict[str, Any]:
        engine = create_engine(settings.postgres_url)
        columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        try:
            with Progress(*columns, console=out, disable=as_json) as bar:
                task = bar.add_task("events", total=None)
                report = await rebuild(
                    engine,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
        finally:
            await engine.dispose()
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in vars(report).items()}

    result = asyncio.run(go())
    if as_json:
        print(json.dumps(result))
    else:
        out.print(
            f"rebuilt {result['applications']} applications from {result['events']} events in "
            f"{result['seconds']} s ({result['caught_up']} caught up, "
            f"{result['skipped_events']} events skipped as unfoldable)"
        )


def status_command(
    postgres_url: PostgresUrl = None, redis_url: RedisUrl = None, as_json: AsJson = False
) -> None:
    """Per consumer group and feed partition: lag, pending entries, oldest pending, dead letters."""
    settings = _settings(postgres_url, redis_url)

    async def go() -> list[GroupStatus]:
        redis = create_redis(settings.redis_url)
        engine = create_engine(settings.postgres_url)
        try:
            return await stream_status(redis, engine, settings.feed_keys(), settings.groups())
        finally:
            await redis.aclose()
            await engine.dispose()

    report = asyncio.run(go())
    if as_json:
        print(json.dumps({"groups": [r.as_dict() for r in report]}))
        return
    table = Table("group", "stream", "lag", "pending", "oldest pending", "consumers", "dead")
    for r in report:
        age = f"{r.oldest_pending_ms / 1000:.1f} s" if r.oldest_pending_ms is not None else "-"
        lag = "?" if r.lag is None else str(r.lag)
        table.add_row(
            r.group, r.stream, lag, str(r.pending), age, str(r.consumers), str(r.dead_letters)
        )
    out.print(table)


def bench_project_command(
    postgres_url: BenchPostgres = None,
    redis_url: BenchRedis = None,
    spawn: Spawn = False,
    applications: Annotated[int, typer.Option(help="applications (7 events each)")] = 5000,
    batch_size: Annotated[int, typer.Option()] = 500,
    partitions: Annotated[
        int, typer.Option(min=1, max=256, help="feed partitions (a reader and a batch each)")
    ] = 4,
    rate: Annotated[int, typer.Option(help="events per second for the lag run")] = 2000,
    seconds: Annotated[float, typer.Option(help="length of the lag run")] = 10.0,
    rounds: Annotated[int, typer.Option(min=1, help="rounds of each measurement")] = 3,
    as_json: AsJson = False,
) -> None:
    """Projector events/s beside a raw asyncpg upsert of the same rows; lag p99 at a steady rate."""
    with servers(postgres_url, redis_url, spawn=spawn) as (pg, redis):
        result = asyncio.run(
            bench_project(pg, redis, applications_count=applications, batch_size=batch_size,
                          partitions=partitions, rate=rate, lag_seconds=seconds, rounds=rounds)
        )  # fmt: skip
    _report(result, as_json)


def bench_query_command(
    postgres_url: BenchPostgres = None,
    spawn: Spawn = False,
    rows: Annotated[int, typer.Option()] = 1_000_000,
    runs: Annotated[int, typer.Option(help="runs per shape with the indexes")] = 20,
    as_json: AsJson = False,
) -> None:
    """p50/p95 of each seed query shape with and without the performance indexes."""
    with servers(postgres_url, None, spawn=spawn, redis=False) as (pg, _):
        result = asyncio.run(bench_query(pg, rows=rows, runs=runs))
    _report(result, as_json)


def bench_rebuild_command(
    postgres_url: BenchPostgres = None,
    spawn: Spawn = False,
    applications: Annotated[int, typer.Option(help="applications (7 events each)")] = 100_000,
    as_json: AsJson = False,
) -> None:
    """Seconds to rebuild the read models from an archive of that many applications' events."""
    with servers(postgres_url, None, spawn=spawn, redis=False) as (pg, _):
        result = asyncio.run(bench_rebuild(pg, applications_count=applications))
    _report(result, as_json)


def _report(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
    else:
        out.print_json(data=result)


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add ``projector``, ``projections rebuild``, ``streams status`` and the ``bench`` commands."""
    app.command("projector")(projector)
    projections = typer.Typer(help="Read models: rebuild from the events archive.")
    projections.command("rebuild")(rebuild_command)
    app.add_typer(projections, name="projections")
    streams = typer.Typer(help="The event log's consumer groups.")
    streams.command("status")(status_command)
    app.add_typer(streams, name="streams")
    bench.command("project")(bench_project_command)
    bench.command("query")(bench_query_command)
    bench.command("rebuild")(bench_rebuild_command)
