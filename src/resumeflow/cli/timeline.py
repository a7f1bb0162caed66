"""``resumeflow timeline APPLICATION_ID``: one application on a time axis, in either mode.

Each event at its offset from the submission; each stage run with its worker and attempt, the
time it waited (due, no worker on it yet: a queue, a retry's backoff) and the time it was worked
on; and the trace's id, with its link when ``RESUMEFLOW_TRACE_URL`` is set. What an operator
needs to see why an application is slow or failed without opening three tools.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated
from uuid import UUID

import typer
from rich.table import Table

from resumeflow.api.routes.applications import timeline_out
from resumeflow.api.schemas import TimelineOut
from resumeflow.bootstrap.api import api_runtime
from resumeflow.bootstrap.settings import Settings
from resumeflow.cli.results import stdout_console
from resumeflow.domain.application import fold
from resumeflow.pipeline.operator import timeline as timeline_of

__all__ = ["register"]

_WIDTH = 30


def _bar(start: float, wait: float, work: float, scale: float) -> str:
    """The run on the axis: ``.`` before it, ``-`` waiting, ``#`` working."""
    lead = round(start / scale)
    waited = round(wait / scale)
    worked = max(1, round(work / scale)) if work else 0
    return ("." * lead + "-" * waited + "#" * worked)[: _WIDTH + 1]


def timeline(
    application_id: Annotated[str, typer.Argument(help="the application's id")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """One application on a time axis: events, stage runs (waiting vs working), its trace."""
    try:
        ident = UUID(application_id)
    except ValueError as bad:
        raise typer.BadParameter(f"{application_id!r} is not an application id") from bad
    settings = Settings()

    async def go() -> TimelineOut:
        async with api_runtime(settings, resume=False) as runtime:
            entries = await timeline_of(runtime.services, ident)
            return timeline_out(entries, fold(e.event for e in entries), settings.trace_url)

    try:
        result = asyncio.run(go())
    except LookupError as missing:
        typer.echo(f"error: {str(missing).strip(chr(39))}", err=True)
        raise typer.Exit(1) from missing
    if as_json:
        print(json.dumps(result.model_dump(mode="json")))
        return
    out = stdout_console()
    scale = max(result.elapsed_seconds, 0.001) / _WIDTH
    table = Table(
        title=f"application {result.application_id}: {result.status} after "
        f"{result.elapsed_seconds:.2f} s ({result.waited_seconds:.2f} s waiting, "
        f"{result.worked_seconds:.2f} s worked)"
    )
    for column in ("v", "+s", "event", "stage", "worker", "try", "waited", "worked", "axis"):
        table.add_column(column, overflow="fold")
    for step in result.steps:
        start = step.at_seconds - (step.worked_seconds or 0) - (step.waited_seconds or 0)
        table.add_row(
            str(step.version),
            f"{step.at_seconds:.3f}",
            step.type.removeprefix("application.") + (f" ({step.note})" if step.note else ""),
            step.stage or "-",
            step.worker or "-",
            str(step.attempt or "-"),
            "-" if step.waited_seconds is None else f"{step.waited_seconds:.3f}",
            "-" if step.worked_seconds is None else f"{step.worked_seconds:.3f}",
            _bar(max(0.0, start), step.waited_seconds or 0, step.worked_seconds or 0, scale),
        )
    out.print(table)
    for trace in result.trace_ids:
        links = [link for link in result.trace_links if trace in link]
        out.print(f"trace {trace}" + (f": {links[0]}" if links else ""))


def register(app: typer.Typer) -> None:
    app.command()(timeline)
