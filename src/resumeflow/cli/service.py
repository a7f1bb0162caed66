"""Commands of the HTTP service: run it, and manage its API keys.

    resumeflow api [--host H] [--port P] [--workers N]   serve the API (uvicorn)
    resumeflow keys create --role ROLE [--name N]        make a key; it is printed once
    resumeflow keys list [--json]                        the keys (never the keys themselves)
    resumeflow keys revoke ID                            revoke a key

The mode follows the settings: embedded (SQLite under the data directory, stages in process)
unless ``RESUMEFLOW_REDIS_URL`` names the distributed log.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.bootstrap.settings import Settings
from resumeflow.database.api_keys import ApiKey, ApiKeyRepository, Role
from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import upgrade

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


def register(app: typer.Typer) -> None:
    app.command()(api)
    keys = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
    keys.command("create")(create)
    keys.command("list")(list_keys)
    keys.command("revoke")(revoke)
    app.add_typer(keys, name="keys")
