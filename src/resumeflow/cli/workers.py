"""Commands of the Celery workers (docs/operations/workers.md).

``register(app)`` adds them to the main ``resumeflow`` app (cli/app.py calls it):

    resumeflow worker [--pool threads|prefork|solo] [--concurrency N] [--beat]
                                          run a worker until SIGTERM (warm) or SIGQUIT (cold)
    resumeflow sweep [--stuck-after S] [--json]
                                          one sweep now: re-send the due stage of stuck ones

Settings come from ``RESUMEFLOW_*`` variables (bootstrap/settings.py); options override
them. ``resumeflow.tasks`` is imported inside the commands, so the embedded mode's commands do not
read or validate the workers' settings.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Annotated, Literal

import typer
from rich.console import Console

from resumeflow.bootstrap.distributed import open_worker_runtime
from resumeflow.bootstrap.logs import LogFormat, configure_logging
from resumeflow.bootstrap.settings import Settings
from resumeflow.metrics import QueueLengthCollector, serve

__all__ = ["register", "sweep", "worker"]

out = Console()
Pool = Literal["threads", "prefork", "solo"]


def worker(
    pool: Annotated[
        Pool | None,
        typer.Option(help="threads: one event loop, many tasks [default: $RESUMEFLOW_WORKER_POOL]"),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency", "-c", min=1, help="[default: $RESUMEFLOW_WORKER_CONCURRENCY]"
        ),
    ] = None,
    loglevel: Annotated[str, typer.Option("--loglevel", "-l")] = "INFO",
    beat: Annotated[
        bool, typer.Option("--beat/--no-beat", help="also run the sweep's schedule (one per site)")
    ] = False,
    hostname: Annotated[
        str | None, typer.Option("--hostname", "-n", help="node name, e.g. w1@%h")
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="serve Prometheus metrics [default: $RESUMEFLOW_METRICS_PORT]"),
    ] = None,
    log_format: Annotated[
        LogFormat | None, typer.Option(help="text or json [default: $RESUMEFLOW_LOG_FORMAT]")
    ] = None,
) -> None:
    """Run a Celery worker for the stage tasks (as ``celery -A resumeflow.tasks worker``)."""
    from resumeflow.tasks import app as celery
    from resumeflow.tasks import settings

    if settings.mode != "distributed":
        raise typer.BadParameter(
            "set RESUMEFLOW_REDIS_URL (the event log) and RESUMEFLOW_DATABASE_URL: workers run "
            "the distributed mode"
        )

    configure_logging(log_format or settings.log_format, loglevel)
    port = metrics_port or settings.metrics_port
    if port:
        if (pool or settings.workers.worker_pool) == "prefork":
            raise typer.BadParameter(
                "metrics are kept per process: serve them with the threads pool (the default)",
                param_hint="--metrics-port",
            )
        serve(port, QueueLengthCollector(settings.celery_broker_url, [settings.workers.queue]))
    argv = ["worker", f"--loglevel={loglevel}"]
    if pool is not None:
        # celery reads an explicit "-P prefork" as its default and lets the configured pool
        # (threads) win; "processes" is prefork's alias that the CLI does not mistake
        argv.append(f"--pool={'processes' if pool == 'prefork' else pool}")
    if concurrency is not None:
        argv.append(f"--concurrency={concurrency}")
    if beat:
        argv.append("--beat")
    if hostname:
        argv.append(f"--hostname={hostname}")
    celery.worker_main(argv)


def sweep(
    stuck_after: Annotated[
        float | None,
        typer.Option(min=0, help="seconds [default: $RESUMEFLOW_STUCK_AFTER_SECONDS]"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Sweep once now: re-send the due stage of every application stuck past the threshold."""
    from resumeflow.bootstrap.celery import create_celery
    from resumeflow.tasks.dispatch import dispatch
    from resumeflow.tasks.sweeper import Sweeper

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    settings = Settings()
    threshold = settings.workers.stuck_after_seconds if stuck_after is None else stuck_after

    async def run() -> dict[str, int]:
        runtime = await open_worker_runtime(settings)
        try:
            sweeper = Sweeper(
                runtime.services,
                runtime.redis,
                prefix=settings.log.stream_prefix,
                stuck_after=threshold,
            )
            due = await sweeper.sweep()
        finally:
            await runtime.aclose()
        celery = create_celery(settings)
        try:
            for stage, ids in due.items():
                dispatch(celery, stage, ids)
        finally:
            celery.close()
        return {stage.value: len(ids) for stage, ids in due.items()}

    sent = asyncio.run(run())
    if as_json:
        print(json.dumps({"stuck_after_seconds": threshold, "sent": sent}))
        return
    if not sent:
        out.print(f"nothing stuck for more than {threshold:g} s")
    for stage, count in sent.items():
        out.print(f"{count} application(s) sent again to [bold]{stage}[/]")


def register(app: typer.Typer) -> None:
    app.command()(worker)
    app.command()(sweep)
