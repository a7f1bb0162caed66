"""Commands of the read side and the schema.

``register(app)`` adds them to the main ``resumeflow`` app (cli/app.py calls it):

    resumeflow migrate                   bring the database's schema to this version's
    resumeflow projector                 run the FastStream projector (until SIGINT/SIGTERM)
    resumeflow projections rebuild       rebuild the read models from the log, swap them in
    resumeflow streams status [--json]   per group and partition: lag, pending, dead letters;
                                         per partition: length, the last retention trim
    resumeflow verify [--json]           read models and archive against the log; exit 1 on a
                                         difference

Settings come from ``RESUMEFLOW_*`` variables (bootstrap/settings.py); options override them.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from resumeflow.bootstrap.eventlog import event_log
from resumeflow.bootstrap.logs import LogFormat, configure_logging
from resumeflow.bootstrap.projector import groups, run_projector
from resumeflow.bootstrap.settings import Settings
from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import current_revision, head, upgrade
from resumeflow.eventstore.redis_client import create_redis
from resumeflow.eventstore.redis_streams import RedisStreamEventStore
from resumeflow.eventstore.sql import SqlEventStore
from resumeflow.metrics import FeedLagCollector, serve
from resumeflow.projections.catalog import read_models
from resumeflow.projections.rebuild import rebuild
from resumeflow.projections.status import (
    GroupStatus,
    PartitionStatus,
    partition_status,
    stream_status,
)
from resumeflow.projections.verify import VerifyReport, redis_log, sql_log, verify

__all__ = ["register"]

out = Console()
AsJson = Annotated[bool, typer.Option("--json", help="print one JSON object")]
DatabaseUrl = Annotated[
    str | None, typer.Option(help="SQLAlchemy URL [default: $RESUMEFLOW_DATABASE_URL]")
]
RedisUrl = Annotated[str | None, typer.Option(help="[default: $RESUMEFLOW_REDIS_URL]")]


def _settings(database_url: str | None = None, redis_url: str | None = None) -> Settings:
    overrides: dict[str, Any] = {}
    if database_url:
        overrides["database_url"] = database_url
    if redis_url:
        overrides["redis_url"] = redis_url
    return Settings(**overrides)


def migrate(database_url: DatabaseUrl = None) -> None:
    """Bring the database to this version's schema (Alembic revisions shipped in the package)."""
    settings = _settings(database_url)

    async def go() -> tuple[str | None, str]:
        if settings.database_url.startswith("sqlite"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.database_url)
        try:
            before = await current_revision(engine)
            await upgrade(engine)
            return before, head()
        finally:
            await engine.dispose()

    before, after = asyncio.run(go())
    out.print(f"schema at {after}" + ("" if before == after else f" (was {before or 'empty'})"))


def projector(
    database_url: DatabaseUrl = None,
    redis_url: RedisUrl = None,
    consumer_name: Annotated[
        str | None, typer.Option(help="stable per replica [default: the host name]")
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="serve Prometheus metrics [default: $RESUMEFLOW_METRICS_PORT]"),
    ] = None,
    log_format: Annotated[
        LogFormat | None, typer.Option(help="text or json [default: $RESUMEFLOW_LOG_FORMAT]")
    ] = None,
) -> None:
    """Run the projector: consumer groups on every feed partition, until SIGINT/SIGTERM."""
    settings = _settings(database_url, redis_url)
    if not settings.redis_url:
        raise typer.BadParameter("set RESUMEFLOW_REDIS_URL (or --redis-url): the feed to project")
    if consumer_name:
        settings.projections.consumer_name = consumer_name
    configure_logging(log_format or settings.log_format)
    port = metrics_port or settings.metrics_port
    if port:
        feed = RedisStreamEventStore(
            create_redis(settings.log_redis_url),
            partitions=settings.log.stream_partitions,
            prefix=settings.log.stream_prefix,
        ).feed_keys
        serve(port, FeedLagCollector(settings.log_redis_url, feed))
    asyncio.run(run_projector(settings))


def rebuild_command(database_url: DatabaseUrl = None, as_json: AsJson = False) -> None:
    """Rebuild applications and stage timings from the log (the events table); swap them in."""
    settings = _settings(database_url)

    async def go() -> dict[str, Any]:
        engine = create_engine(settings.database_url)
        columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        try:
            with Progress(*columns, console=out, disable=as_json) as bar:
                task = bar.add_task("events", total=None)
                report = await rebuild(
                    engine,
                    read_models(cache_size=settings.projections.state_cache_size),
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
    database_url: DatabaseUrl = None, redis_url: RedisUrl = None, as_json: AsJson = False
) -> None:
    """Per consumer group and partition: lag, pending, dead letters; the feed's retention."""
    settings = _settings(database_url, redis_url)
    if not settings.redis_url:
        raise typer.BadParameter("set RESUMEFLOW_REDIS_URL (or --redis-url): the feed to inspect")

    async def go() -> tuple[list[GroupStatus], list[PartitionStatus]]:
        redis = create_redis(settings.log_redis_url)
        engine = create_engine(settings.database_url)
        store = RedisStreamEventStore(
            redis, partitions=settings.log.stream_partitions, prefix=settings.log.stream_prefix
        )
        names = [group.name for group in groups(settings)]
        try:
            return (
                await stream_status(redis, engine, store.feed_keys, names),
                await partition_status(redis, store.feed_keys, store.prefix),
            )
        finally:
            await redis.aclose()
            await engine.dispose()

    report, partitions = asyncio.run(go())
    if as_json:
        print(
            json.dumps(
                {
                    "groups": [r.as_dict() for r in report],
                    "partitions": [p.as_dict() for p in partitions],
                }
            )
        )
        return
    table = Table("group", "stream", "lag", "pending", "oldest pending", "consumers", "dead")
    for r in report:
        age = f"{r.oldest_pending_ms / 1000:.1f} s" if r.oldest_pending_ms is not None else "-"
        lag = "?" if r.lag is None else str(r.lag)
        table.add_row(
            r.group, r.stream, lag, str(r.pending), age, str(r.consumers), str(r.dead_letters)
        )
    out.print(table)
    feed = Table("stream", "entries", "oldest entry", "last trim", "removed", "held back by")
    for p in partitions:
        when = (
            datetime.fromtimestamp(p.last_trim_at_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
            if p.last_trim_at_ms
            else "never"
        )
        feed.add_row(
            p.stream,
            str(p.length),
            p.first_entry or "-",
            when,
            "-" if p.last_trim_removed is None else str(p.last_trim_removed),
            p.last_trim_held_by or "-",
        )
    out.print(feed)


def verify_command(
    database_url: DatabaseUrl = None,
    redis_url: RedisUrl = None,
    stuck_after: Annotated[
        float, typer.Option(help="minutes a non-terminal application may go untouched")
    ] = 15.0,
    settle: Annotated[
        float, typer.Option(help="seconds to let projection lag catch up before reporting it")
    ] = 10.0,
    as_json: AsJson = False,
) -> None:
    """Check the read models and the archive against the log; exit 1 when anything differs."""
    settings = _settings(database_url, redis_url)

    async def go() -> VerifyReport:
        engine = create_engine(settings.database_url)
        redis = create_redis(settings.redis_url) if settings.redis_url else None
        try:
            if redis is None:  # the embedded database, made as every embedded command makes it
                settings.data_dir.mkdir(parents=True, exist_ok=True)
                await upgrade(engine)
                log = sql_log(engine, SqlEventStore(engine).read)
            else:
                store = event_log(settings, redis, engine)
                log = redis_log(store, engine)
            return await verify(
                engine, log, stuck_after=timedelta(minutes=stuck_after), settle=settle
            )
        finally:
            if redis is not None:
                await redis.aclose()
            await engine.dispose()

    report = asyncio.run(go())
    result = report.as_dict()
    if as_json:
        print(json.dumps(result))
    else:
        for d in report.differences:
            out.print(f"{d.kind:15} {d.application_id}  {d.detail}", markup=False, soft_wrap=True)
        summary = ", ".join(f"{n} {kind}" for kind, n in result["differences"].items())
        out.print(
            f"{report.applications} applications, {report.events} events: "
            + (summary if summary else "the read side matches the log")
        )
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``migrate``, ``projector``, ``verify``, ``projections rebuild``, ``streams status``."""
    app.command("migrate")(migrate)
    app.command("verify")(verify_command)
    app.command("projector")(projector)
    projections = typer.Typer(help="Read models: rebuild them from the log.")
    projections.command("rebuild")(rebuild_command)
    app.add_typer(projections, name="projections")
    streams = typer.Typer(help="The event log's feed: consumer groups and retention.")
    streams.command("status")(status_command)
    app.add_typer(streams, name="streams")
