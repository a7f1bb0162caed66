"""``resumeflow bench``: the benchmarks, as CLI commands (mounted under the main CLI).

Each command runs against servers you name, prints a Rich table, or with ``--json`` exactly one
JSON object on stdout (for scripts and CI trend lines).
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from resumeflow.bench.append import run_append_bench

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


if __name__ == "__main__":  # python -m resumeflow.bench.cli append ...
    bench_app()
