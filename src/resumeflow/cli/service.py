"""Commands of the HTTP service: run it, and manage its API keys.

    resumeflow api [--host H] [--port P] [--workers N]   serve the API (uvicorn)
    resumeflow keys create --role ROLE [--name N]        make a key; it is printed once
    resumeflow keys list [--json]                        the keys (never the keys themselves)
    resumeflow keys revoke ID                            revoke a key
    resumeflow submit FILE --job-post ID --name N --email E   submit through the use case
    resumeflow job-posts create (--file F | --title T --description D) / list

The mode follows the settings: embedded (SQLite under the data directory, stages in process)
unless ``RESUMEFLOW_REDIS_URL`` names the distributed log.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.adapters.local.job_files import job_post_from_file_bytes
from resumeflow.adapters.local.jobs import job_post_from_text
from resumeflow.bootstrap.api import api_runtime
from resumeflow.bootstrap.settings import Settings
from resumeflow.database.api_keys import ApiKey, ApiKeyRepository, Role
from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import upgrade
from resumeflow.domain.errors import DomainError
from resumeflow.domain.ids import new_id
from resumeflow.domain.jobs import JobPost
from resumeflow.pipeline.runner import InProcessDispatcher
from resumeflow.pipeline.stages import load_state
from resumeflow.pipeline.submit import SubmitApplication, submit_application

__all__ = ["register"]

out = Console()
err = Console(stderr=True)


def api(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="worker processes (distributed mode)")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level")] = "info",
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs)."""
    import uvicorn

    settings = Settings()
    if settings.mode == "embedded" and workers > 1:
        raise typer.BadParameter(
            "the embedded mode runs stages in the API process: use one worker, or the "
            "distributed mode (RESUMEFLOW_REDIS_URL) for more",
            param_hint="--workers",
        )
    if settings.mode == "embedded":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    uvicorn.run(
        "resumeflow.api.app:factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        log_config=None,  # the factory sets up logging (text or JSON) in each process
        access_log=False,  # paths and ids only would be fine, but one line per request is noise
    )


async def _keys(settings: Settings) -> tuple[ApiKeyRepository, AsyncEngine]:
    if settings.database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    return ApiKeyRepository(engine), engine


def _record(key: ApiKey) -> dict[str, str | None]:
    return {
        "id": str(key.id),
        "name": key.name,
        "role": key.role.value,
        "prefix": key.prefix,
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


def create(
    role: Annotated[Role, typer.Option(help="submitter, reader or operator")],
    name: Annotated[str, typer.Option(help="who or what it is for")] = "",
) -> None:
    """Make an API key; it is printed once, and only its hash is kept."""

    async def go() -> tuple[ApiKey, str]:
        keys, engine = await _keys(Settings())
        try:
            return await keys.create(role, name)
        finally:
            await engine.dispose()

    key, secret = asyncio.run(go())
    err.print(f"created {key.role.value} key {key.id} ({key.name or 'no name'}); it is shown once:")
    print(secret)


def list_keys(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The API keys: id, name, role, first characters, created, revoked."""

    async def go() -> list[ApiKey]:
        keys, engine = await _keys(Settings())
        try:
            return await keys.all()
        finally:
            await engine.dispose()

    records = [_record(k) for k in asyncio.run(go())]
    if as_json:
        print(json.dumps(records))
        return
    for r in records:
        state = f"revoked {r['revoked_at']}" if r["revoked_at"] else "live"
        print(f"{r['id']}  {r['role']:<9}  {r['prefix']}…  {r['name'] or '-'}  {state}")


def revoke(key_id: Annotated[str, typer.Argument(help="the key's id (keys list)")]) -> None:
    """Revoke an API key: requests with it get 401 from now on."""
    try:
        ident = UUID(key_id)
    except ValueError as bad:
        raise typer.BadParameter(f"{key_id!r} is not a key id") from bad

    async def go() -> bool:
        keys, engine = await _keys(Settings())
        try:
            return await keys.revoke(ident)
        finally:
            await engine.dispose()

    if not asyncio.run(go()):
        err.print(f"[red]error:[/] no live key {key_id}")
        raise typer.Exit(1)
    print(f"revoked {key_id}")


def submit(
    file: Annotated[Path, typer.Argument(help="the resume", exists=True, dir_okay=False)],
    job_post: Annotated[str, typer.Option("--job-post", help="the job post's id")],
    name: Annotated[str, typer.Option(help="the applicant's name")],
    email: Annotated[str, typer.Option(help="the applicant's email")],
    idempotency_key: Annotated[str | None, typer.Option(help="repeat-safe submission")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Submit a resume as the API does. The embedded mode runs it to its end (exit 1 unless it
    completes); the distributed mode hands it to the workers and prints its id."""
    settings = Settings()
    try:
        post = UUID(job_post)
    except ValueError as bad:
        raise typer.BadParameter(f"{job_post!r} is not a job post id") from bad

    async def go() -> dict[str, str | None]:
        async with api_runtime(settings, resume=False) as runtime:
            accepted = await submit_application(
                runtime.services,
                SubmitApplication(
                    job_post_id=post, email=email, name=name, filename=file.name,
                    data=file.read_bytes(), idempotency_key=idempotency_key,
                ),
                runtime.dispatcher,
            )  # fmt: skip
            state = accepted.state
            if isinstance(runtime.dispatcher, InProcessDispatcher):
                await runtime.dispatcher.drain()
                state, _ = await load_state(runtime.services, accepted.application_id)
            return {
                "application_id": str(accepted.application_id),
                "status": state.status.value,
                "failure_reason": state.failure_reason,
                "score": None if state.score is None else f"{state.score.total:.1f}",
            }

    try:
        record = asyncio.run(go())
    except DomainError as error:
        err.print(f"[red]error:[/] {error}")
        raise typer.Exit(1) from error
    if as_json:
        print(json.dumps(record))
    else:
        print(" ".join(f"{k}={v}" for k, v in record.items() if v is not None))
    if record["status"] not in ("completed", "received"):
        raise typer.Exit(1)


def create_job_post(
    file: Annotated[
        Path | None, typer.Option(help="a job description: text, PDF, DOCX or JSON-LD")
    ] = None,
    title: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a job post (in the configured database: either mode's); prints its id."""
    if file is not None:
        job = job_post_from_file_bytes(file.read_bytes(), job_post_id=new_id(), name=str(file))
    elif title and description:
        job = job_post_from_text(f"{title}\n{description}", job_post_id=new_id(), title=title)
        job = job.model_copy(update={"description": description})
    else:
        raise typer.BadParameter("give --file, or --title and --description")

    async def go() -> None:
        async with api_runtime(Settings(), resume=False) as runtime:
            await runtime.job_posts.add(job)

    asyncio.run(go())
    print(job.id)


def list_job_posts(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The job posts, newest first."""

    async def go() -> list[JobPost]:
        async with api_runtime(Settings(), resume=False) as runtime:
            jobs, _ = await runtime.job_posts.page(limit=200)
            return jobs

    jobs = asyncio.run(go())
    if as_json:
        print(json.dumps([j.model_dump(mode="json", exclude={"skill_requirements"}) for j in jobs]))
        return
    for job in jobs:
        state = "closed" if job.closed_at else "open"
        print(f"{job.id}  {state:<6}  {job.title}  ({', '.join(job.required_skills[:8])})")


def register(app: typer.Typer) -> None:
    app.command()(api)
    app.command()(submit)
    posts = typer.Typer(help="Job posts: create, list.", no_args_is_help=True)
    posts.command("create")(create_job_post)
    posts.command("list")(list_job_posts)
    app.add_typer(posts, name="job-posts")
    keys = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
    keys.command("create")(create)
    keys.command("list")(list_keys)
    keys.command("revoke")(revoke)
    app.add_typer(keys, name="keys")
