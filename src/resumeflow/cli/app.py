"""``resumeflow``: process resumes in one process (embedded mode), inspect and retry them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sys
import time
import warnings
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID, uuid5

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from resumeflow.adapters.local.job_files import job_post_from_file_bytes
from resumeflow.bootstrap.api import api_runtime
from resumeflow.bootstrap.embedded import EmbeddedRuntime, embedded_runtime
from resumeflow.bootstrap.settings import Settings
from resumeflow.cli import listing, plugins, projections, service, stack, timeline, workers
from resumeflow.cli.results import (
    history_record,
    print_history,
    print_ranking,
    print_result,
    result_record,
    stdout_console,
)
from resumeflow.domain.errors import DomainError, StageError, UnknownJobPost, UploadRejected
from resumeflow.domain.events import Stage
from resumeflow.domain.jobs import JobPost
from resumeflow.pipeline.operator import replay, retry_application
from resumeflow.pipeline.runner import drive
from resumeflow.pipeline.stages import StageResult
from resumeflow.pipeline.submit import SubmitApplication, submit_application

__all__ = ["app", "main"]

app = typer.Typer(
    help="resumeflow: an event-sourced pipeline for job applications.",
    no_args_is_help=True,
    add_completion=False,
)
projections.register(app)
workers.register(app)
listing.register(app)
service.register(app)
timeline.register(app)
stack.register(app)
plugins.register(app)
out = stdout_console()
err = Console(stderr=True)

_JOB_NAMESPACE = UUID("5b0e8a52-7f6e-4c1b-9a0c-2f1d3c4b5a69")
DataDir = Annotated[
    Path | None,
    typer.Option(
        help="where the embedded mode keeps its data [default: $RESUMEFLOW_DATA_DIR or .resumeflow]"
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON instead of tables")]


def _settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir else Settings()


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/] {message}")
    return typer.Exit(code)


def load_job_post(path: Path) -> JobPost:
    """A job post from a text, document or schema.org JSON-LD file; its id derives from the
    content, so the same file names the same job post on every run."""
    data = path.read_bytes()
    job_id = uuid5(_JOB_NAMESPACE, hashlib.sha256(data).hexdigest())
    return job_post_from_file_bytes(data, job_post_id=job_id, name=str(path))


def _check_files(paths: list[Path]) -> None:
    for path in paths:
        if path.is_dir():
            raise _fail(f"{path}: is a directory, not a file")
        if not path.is_file():
            raise _fail(f"{path}: no such file")


def _job_post(job: Path) -> JobPost:
    try:
        return load_job_post(job)
    except UploadRejected as error:
        raise _fail(f"cannot read the job post {job}: {error.detail}") from error
    except (DomainError, ValueError, OSError) as error:
        raise _fail(f"cannot read the job post {job}: {error}") from error


JobFile = Annotated[
    Path, typer.Option("--job", help="the job post: a .txt, document or JSON-LD file")
]


@app.command()
def process(
    files: Annotated[
        list[Path], typer.Argument(help="resume files (PDF, DOCX, Word XML, images, text)")
    ],
    job: JobFile,
    name: Annotated[
        str | None, typer.Option(help="the applicant's name [default: the file's name]")
    ] = None,
    email: Annotated[
        str | None,
        typer.Option(help="the applicant's email [default: a placeholder @cli.invalid]"),
    ] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    concurrency: Annotated[int, typer.Option(min=1, help="applications in flight at once")] = 2,
) -> None:
    """Run each resume through the whole pipeline against JOB and print the results."""
    _check_files([job, *files])
    job_post = _job_post(job)
    records = asyncio.run(
        _process(_settings(data_dir), files, job_post, as_json, concurrency, (name, email))
    )
    failed = [r for r in records if r["status"] != "completed"]
    if failed:
        err.print(f"[yellow]{len(failed)} of {len(records)} applications did not complete[/]")
        raise typer.Exit(1)


@app.command()
def rank(
    files: Annotated[list[Path], typer.Argument(help="resume files to rank")],
    job: JobFile,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    concurrency: Annotated[int, typer.Option(min=1, help="applications in flight at once")] = 2,
) -> None:
    """Run each resume against JOB and print them best first, with each score's breakdown."""
    _check_files([job, *files])
    job_post = _job_post(job)
    records = asyncio.run(
        _process(_settings(data_dir), files, job_post, None, concurrency, (None, None))
    )
    ranked = sorted(records, key=lambda r: -(r["score"] if r["score"] is not None else -1.0))
    if as_json:
        print(json.dumps({"job": job_post.title, "ranking": ranked}))
    else:
        print_ranking(out, job_post.title, ranked)
    if any(r["status"] != "completed" for r in records):
        raise typer.Exit(1)


async def _process(
    settings: Settings,
    files: list[Path],
    job_post: JobPost,
    as_json: bool | None,
    concurrency: int,
    applicant: tuple[str | None, str | None],
) -> list[dict[str, Any]]:
    """Submit and drive each file; print each result unless ``as_json`` is None (rank)."""
    async with embedded_runtime(settings) as runtime:
        await runtime.services.job_posts.add(job_post)
        limit = asyncio.Semaphore(concurrency)
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[stage]}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as progress:

            async def one(path: Path) -> dict[str, Any]:
                task = progress.add_task(path.name, total=len(Stage), stage="queued")
                async with limit:
                    record = await _process_one(runtime, path, job_post, progress, task, applicant)
                progress.update(task, completed=len(Stage), stage=record["status"])
                return record

            records = await asyncio.gather(*(one(path) for path in files))
    for record in records if as_json is not None else ():
        if as_json:
            out.print_json(data=record) if out.is_terminal else print(json.dumps(record))
        else:
            print_result(out, record)
    return list(records)


async def _process_one(
    runtime: EmbeddedRuntime,
    path: Path,
    job_post: JobPost,
    progress: Progress,
    task: Any,
    applicant: tuple[str | None, str | None],
) -> dict[str, Any]:
    started = time.perf_counter()
    name, email = applicant
    command = SubmitApplication(
        job_post_id=job_post.id,
        email=email or _placeholder_email(path),
        name=name or path.stem,
        filename=path.name,
        data=await asyncio.to_thread(path.read_bytes),
    )
    try:
        application_id = (await submit_application(runtime.services, command)).application_id
    except (UploadRejected, UnknownJobPost) as error:
        reason = error.reason if isinstance(error, UploadRejected) else "unknown_job_post"
        return result_record(
            path.name,
            None,
            rejected=reason,
            detail=error.detail if isinstance(error, UploadRejected) else str(error),
            elapsed=time.perf_counter() - started,
        )

    def step(stage: Stage, result: StageResult) -> None:
        progress.update(
            task,
            advance=1 if result.outcome == "done" else 0,
            stage=f"{stage.value}: {result.outcome.value}",
        )

    state = await drive(runtime.services, application_id, on_step=step)
    return result_record(path.name, state, elapsed=round(time.perf_counter() - started, 3))


def _application_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError as error:
        raise _fail(f"{text!r} is not an application id") from error


def _placeholder_email(path: Path) -> str:
    """Without ``--email`` the applicant is named after the file, at a reserved domain."""
    local = "".join(c if c.isalnum() else "-" for c in path.stem.lower()).strip("-") or "applicant"
    return f"{local[:60]}@cli.invalid"


@app.command()
def history(
    application_id: Annotated[str, typer.Argument(help="the application's id")],
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Print the application's events and the state after each: how it got where it is."""
    app_id = _application_id(application_id)

    async def run() -> list[Any]:
        async with api_runtime(_settings(data_dir), resume=False) as runtime:
            return await replay(runtime.services, app_id)

    try:
        steps = asyncio.run(run())
    except LookupError as error:
        raise _fail(str(error).strip("'\""), 1) from error
    trace_url = _settings(data_dir).trace_url
    if as_json:
        print(json.dumps([history_record(e, s, trace_url) for e, s in steps], indent=2))
    else:
        print_history(out, steps, trace_url)


@app.command()
def retry(
    application_id: Annotated[str, typer.Argument(help="a failed application's id")],
    reason: Annotated[str, typer.Option(help="why, for the log")] = "",
    data_dir: DataDir = None,
) -> None:
    """Retry a failed application from the stage that failed, and run it to its end."""
    app_id = _application_id(application_id)

    async def run() -> dict[str, Any]:
        async with embedded_runtime(_settings(data_dir)) as runtime:
            state = await retry_application(runtime.services, app_id, reason=reason)
            state = await drive(runtime.services, app_id)
            return result_record(state.filename, state)

    try:
        record = asyncio.run(run())
    except (LookupError, DomainError) as error:
        raise _fail(str(error).strip("'\""), 1) from error
    print_result(out, record)
    if record["status"] != "completed":
        raise typer.Exit(1)


def _quiet_libraries() -> None:
    """Libraries' own warnings (pypdf's "EOF marker not found") are not the CLI's output: a
    document they cannot read is reported once, as the application's failure reason."""
    for name in ("pypdf", "PIL", "resumeflow.adapters.local.extraction"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", module="pypdf")


def main() -> None:
    _quiet_libraries()
    try:
        app()
    except StageError as error:  # pragma: no cover - a last resort; stages record their errors
        err.print(f"[red]error:[/] {error}")
        sys.exit(1)
