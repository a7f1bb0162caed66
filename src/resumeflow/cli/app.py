"""``resumeflow``: process resumes in one process (embedded mode), inspect and retry them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID, uuid5

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from resumeflow.adapters.local.extraction import extract_document
from resumeflow.adapters.local.jobs import job_post_from_text
from resumeflow.bootstrap.embedded import EmbeddedRuntime, embedded_runtime
from resumeflow.bootstrap.settings import Settings
from resumeflow.cli import plugins, projections, service, workers
from resumeflow.cli.results import (
    history_record,
    print_history,
    print_result,
    result_record,
)
from resumeflow.domain.documents import DocumentFormat, sniff_format
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
service.register(app)
plugins.register(app)
out = Console()
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
    """A job post from a text or document file; its id derives from the content, so the same
    file names the same job post on every run."""
    data = path.read_bytes()
    fmt = sniff_format(data)
    if fmt is None:
        raise UploadRejected("unsupported_format", f"{path} is not a document we can read")
    text = data.decode("utf-8") if fmt is DocumentFormat.TEXT else extract_document(data, fmt).text
    job_id = uuid5(_JOB_NAMESPACE, hashlib.sha256(data).hexdigest())
    return job_post_from_text(text, job_post_id=job_id)


@app.command()
def process(
    files: Annotated[
        list[Path], typer.Argument(help="resume files (PDF, DOCX, Word XML, images, text)")
    ],
    job: Annotated[Path, typer.Option("--job", help="the job post: a .txt or document file")],
    as_json: AsJson = False,
    data_dir: DataDir = None,
    concurrency: Annotated[int, typer.Option(min=1, help="applications in flight at once")] = 2,
) -> None:
    """Run each resume through the whole pipeline against JOB and print the results."""
    for path in [job, *files]:
        if not path.is_file():
            raise _fail(f"{path}: no such file")
    try:
        job_post = load_job_post(job)
    except (DomainError, UnicodeDecodeError) as error:
        raise _fail(f"cannot read the job post {job}: {error}") from error
    records = asyncio.run(_process(_settings(data_dir), files, job_post, as_json, concurrency))
    failed = [r for r in records if r["status"] != "completed"]
    if failed:
        err.print(f"[yellow]{len(failed)} of {len(records)} applications did not complete[/]")
        raise typer.Exit(1)


async def _process(
    settings: Settings, files: list[Path], job_post: JobPost, as_json: bool, concurrency: int
) -> list[dict[str, Any]]:
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
                    record = await _process_one(runtime, path, job_post, progress, task)
                progress.update(task, completed=len(Stage), stage=record["status"])
                return record

            records = await asyncio.gather(*(one(path) for path in files))
    for record in records:
        if as_json:
            out.print_json(data=record) if out.is_terminal else print(json.dumps(record))
        else:
            print_result(out, record)
    return list(records)


async def _process_one(
    runtime: EmbeddedRuntime, path: Path, job_post: JobPost, progress: Progress, task: Any
) -> dict[str, Any]:
    started = time.perf_counter()
    command = SubmitApplication(
        job_post_id=job_post.id,
        email=_placeholder_email(path),
        name=path.stem,
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
            detail=str(error),
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
    """The CLI has no applicant form: the applicant is named after the file."""
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
        async with embedded_runtime(_settings(data_dir)) as runtime:
            return await replay(runtime.services, app_id)

    try:
        steps = asyncio.run(run())
    except LookupError as error:
        raise _fail(str(error).strip("'\""), 1) from error
    if as_json:
        print(json.dumps([history_record(e, s) for e, s in steps], indent=2))
    else:
        print_history(out, steps)


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


def main() -> None:
    try:
        app()
    except StageError as error:  # pragma: no cover - a last resort; stages record their errors
        err.print(f"[red]error:[/] {error}")
        sys.exit(1)
