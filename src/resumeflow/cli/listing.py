"""``resumeflow applications``: past applications, from the read model (either mode)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from rich.table import Table

from resumeflow.bootstrap.settings import Settings
from resumeflow.cli.results import stdout_console
from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import upgrade
from resumeflow.projections import queries
from resumeflow.projections.queries import ApplicationSummary

__all__ = ["register"]


async def _rows(
    settings: Settings, status: str | None, job_post: UUID | None, email: str | None, limit: int
) -> list[ApplicationSummary]:
    """The read model of the configured database (either mode's), newest first."""
    shape = queries.newest_first(
        queries.ApplicationFilter(status=status, job_post_id=job_post, email=email)
    )
    if settings.mode == "embedded":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url)
    try:
        if settings.mode == "embedded":
            await upgrade(engine)
        async with engine.connect() as conn:
            return (await queries.fetch_page(conn, shape, limit=limit)).items
    finally:
        await engine.dispose()


def _record(row: ApplicationSummary) -> dict[str, Any]:
    return {
        "application_id": str(row.id),
        "job_post_id": str(row.job_post_id),
        "email": row.email,
        "name": row.name,
        "status": row.status,
        "score": row.score,
        "version": row.version,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def applications(
    status: Annotated[
        str | None, typer.Option(help="only this status (completed, failed...)")
    ] = None,
    job_post: Annotated[str | None, typer.Option(help="only this job post's id")] = None,
    email: Annotated[str | None, typer.Option(help="only this applicant's email")] = None,
    limit: Annotated[int, typer.Option(min=1, help="at most this many, newest first")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
    data_dir: Annotated[
        Path | None, typer.Option(help="where the embedded mode keeps its data")
    ] = None,
) -> None:
    """List past applications, newest first, with filters."""
    try:
        job_id = UUID(job_post) if job_post else None
    except ValueError as error:
        typer.echo(f"error: {job_post!r} is not a job post id", err=True)
        raise typer.Exit(2) from error
    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    rows = asyncio.run(_rows(settings, status, job_id, email, limit))
    if as_json:
        print(json.dumps([_record(row) for row in rows]))
        return
    table = Table(title=f"{len(rows)} application(s)")
    for column in ("application", "status", "score", "name", "email", "job post", "created (UTC)"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            str(row.id),
            row.status,
            f"{row.score:.1f}" if row.score is not None else "-",
            row.name,
            row.email,
            str(row.job_post_id),
            row.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    stdout_console().print(table)


def register(app: typer.Typer) -> None:
    app.command("applications")(applications)
