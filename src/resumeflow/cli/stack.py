"""``resumeflow stack``: the distributed mode on this machine, without Docker.

    resumeflow stack up [--api-port P ...] [--free-ports]   Redis, Postgres, migrate, the API, a
                                                            worker, the projector, beat, Flower
    resumeflow stack status [--json]                        each process: alive? answering?
    resumeflow stack logs [NAME] [-f]                       the processes' log files
    resumeflow stack env                                    the export line for this shell
    resumeflow stack down                                   stop exactly what ``up`` started

The stack lives in ``DATA_DIR/stack`` (``--data-dir`` or ``$RESUMEFLOW_DATA_DIR``); its processes
share ``DATA_DIR`` as their data directory (the local blob store), as a shell given the printed
``export`` line does.
"""

from __future__ import annotations

import json
import os
import shlex
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from resumeflow.bootstrap import stack as runtime
from resumeflow.bootstrap import stack_state
from resumeflow.bootstrap.settings import Settings

__all__ = ["register"]

out = Console(soft_wrap=True)
err = Console(stderr=True)
stack_app = typer.Typer(help="The distributed mode on this machine from local binaries.")

DataDir = Annotated[
    Path | None,
    typer.Option(help="the stack lives in DATA_DIR/stack [default: $RESUMEFLOW_DATA_DIR]"),
]


def _port_option(name: str) -> object:
    return typer.Option(min=1, max=65535, help=f"[default: {runtime.DEFAULT_PORTS[name]}]")


def _dirs(data_dir: Path | None) -> tuple[Path, Path]:
    data = (data_dir or Settings().data_dir).resolve()
    return data, data / "stack"


def _state(data_dir: Path | None) -> stack_state.StackState:
    _, directory = _dirs(data_dir)
    state = stack_state.load_state(directory)
    if state is None:
        err.print(f"no stack in {directory} (start one with `resumeflow stack up`)")
        raise typer.Exit(1)
    return state


def _export(state: stack_state.StackState) -> str:
    return "export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in state.env.items())


@stack_app.command()
def up(
    data_dir: DataDir = None,
    api_port: Annotated[int | None, _port_option("api")] = None,
    redis_port: Annotated[int | None, _port_option("redis")] = None,
    postgres_port: Annotated[int | None, _port_option("postgres")] = None,
    worker_metrics_port: Annotated[int | None, _port_option("worker_metrics")] = None,
    projector_metrics_port: Annotated[int | None, _port_option("projector_metrics")] = None,
    flower_port: Annotated[int | None, _port_option("flower")] = None,
    free_ports: Annotated[
        bool, typer.Option("--free-ports", help="let the OS pick every port (tests, a 2nd stack)")
    ] = False,
    flower: Annotated[
        bool, typer.Option("--flower/--no-flower", help="start Flower when it is installed")
    ] = True,
    timeout: Annotated[float, typer.Option(min=1, help="seconds to wait for readiness")] = 180.0,
) -> None:
    """Start Redis, Postgres, the migrations, the API, a worker, the projector and beat."""
    data, directory = _dirs(data_dir)
    wanted = {
        "api": api_port,
        "redis": redis_port,
        "postgres": postgres_port,
        "worker_metrics": worker_metrics_port,
        "projector_metrics": projector_metrics_port,
        "flower": flower_port,
    }
    ports = runtime.choose_ports(wanted, free=free_ports)
    with_flower = flower and runtime.flower_installed()
    if not with_flower:
        flower_port = ports.pop("flower")  # not started: its port need not be free
    try:
        with err.status("starting") as shown:
            state = runtime.stack_up(
                directory,
                data,
                ports,
                flower=with_flower,
                timeout=timeout,
                on_step=lambda step: shown.update(f"starting: {step}"),
            )
    except stack_state.StackError as error:
        err.print(f"[red]error:[/] {error}")
        raise typer.Exit(1) from error
    out.print(f"[green]stack up[/] in {state.up_seconds:g} s: {directory}")
    _table(state)
    api = state.api_url
    out.print(f"API        {api}  (docs {api}/docs, metrics {api}/metrics)")
    out.print(
        f"metrics    worker http://127.0.0.1:{ports['worker_metrics']}/metrics, "
        f"projector http://127.0.0.1:{ports['projector_metrics']}/metrics"
    )
    if with_flower:
        out.print(f"Flower     http://127.0.0.1:{ports['flower']}")
    else:
        out.print(
            "Flower     not started; with the export line below: "
            f"celery --app=resumeflow.tasks flower --port={flower_port}"
        )
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    trace_url = Settings().trace_url
    if endpoint or trace_url:
        out.print(f"traces     sent to {endpoint or '(OTEL_* settings)'}; links {trace_url or '-'}")
    else:
        out.print("traces     off: set OTEL_EXPORTER_OTLP_ENDPOINT (and RESUMEFLOW_TRACE_URL)")
    out.print('\nTalk to it from a shell (or: eval "$(resumeflow stack env)"):')
    print(_export(state))
    print("KEY=$(resumeflow keys create --role operator)   # an API key, shown once")
    out.print(
        "Then: resumeflow stack status | resumeflow stack logs NAME -f | resumeflow stack down"
    )


def _table(state: stack_state.StackState) -> None:
    table = Table(
        "process", "pid", "alive", "port", "answering", title=f"logs: {state.directory}/logs"
    )
    for row in stack_state.status(state):
        answering = {True: "yes", False: "[red]no[/]", None: "-"}[row["answering"]]
        table.add_row(
            row["name"],
            str(row["pid"]),
            "yes" if row["alive"] else "[red]no[/]",
            str(row["port"] or "-"),
            answering,
        )
    out.print(table)


@stack_app.command()
def status(
    data_dir: DataDir = None, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Each process of the stack: alive, answering on its port; exit 1 if any is not."""
    state = _state(data_dir)
    rows = stack_state.status(state)
    if as_json:
        print(json.dumps({"directory": state.directory, "env": state.env, "processes": rows}))
    else:
        _table(state)
    if not all(row["alive"] and row["answering"] is not False for row in rows):
        raise typer.Exit(1)


@stack_app.command()
def env(data_dir: DataDir = None) -> None:
    """The ``export`` line that points this shell's ``resumeflow`` at the stack."""
    print(_export(_state(data_dir)))


@stack_app.command()
def logs(
    name: Annotated[str | None, typer.Argument(help="one process [default: all]")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new lines")] = False,
    lines: Annotated[int, typer.Option("--lines", "-n", min=0, help="last lines of each")] = 20,
    data_dir: DataDir = None,
) -> None:
    """Print the last lines of the processes' logs (``logs/NAME.log`` in the stack directory)."""
    state = _state(data_dir)
    logs_dir = Path(state.directory) / "logs"
    names = sorted(p.stem for p in logs_dir.glob("*.log"))
    if name is not None and name not in names:
        raise typer.BadParameter(f"no log named {name!r}; one of {', '.join(names)}")
    chosen = [name] if name else names
    files = {n: (logs_dir / f"{n}.log").open("rb") for n in chosen}
    width = 11 if len(chosen) > 1 else 0

    def prefix(n: str) -> str:
        return f"{n:<10}| " if width else ""

    try:
        for n, file in files.items():
            for line in file.read().decode(errors="replace").splitlines()[-lines:] if lines else []:
                print(prefix(n) + line)
        while follow:
            for n, file in files.items():
                for line in file.read().decode(errors="replace").splitlines():
                    print(prefix(n) + line, flush=True)
            time.sleep(0.3)
    except KeyboardInterrupt:
        pass
    finally:
        for file in files.values():
            file.close()


@stack_app.command()
def down(
    data_dir: DataDir = None,
    timeout: Annotated[float, typer.Option(min=0, help="seconds before SIGKILL")] = 30.0,
    purge: Annotated[
        bool, typer.Option("--purge", help="then delete the stack's data (Redis, Postgres, logs)")
    ] = False,
) -> None:
    """Stop what ``up`` started, last first: SIGTERM (Postgres: a fast shutdown), then SIGKILL.
    The data stays for the next ``up`` unless ``--purge``."""
    _, directory = _dirs(data_dir)
    state = stack_state.load_state(directory)
    if state is None and not purge:
        _state(data_dir)  # says there is none
    if state is not None:
        left = stack_state.stack_down(
            state,
            timeout=timeout,
            on_stop=lambda p, how: out.print(f"{p.name:<10} {p.pid:>7}  {how}"),
        )
        if left:
            err.print(f"[red]still running:[/] {', '.join(p.name for p in left)}")
            raise typer.Exit(1)
    if purge:
        stack_state.purge(directory)
        out.print(f"deleted {directory}")


def register(app: typer.Typer) -> None:
    app.add_typer(stack_app, name="stack")
