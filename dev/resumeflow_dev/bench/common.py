"""What both benchmarks need: a fresh database per run, and the servers to run against."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import uuid4

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information

from resumeflow_dev.servers import PostgresServer, RedisServer

__all__ = ["drop_database", "fresh_database", "plain_dsn", "servers"]


def plain_dsn(url: str) -> str:
    """asyncpg's DSN from a SQLAlchemy URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def fresh_database(url: str) -> str:
    """Create an empty database beside ``url``'s and return its URL (runs never mix data)."""
    name = f"rf_bench_{uuid4().hex[:12]}"
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.rsplit("/", 1)[0] + f"/{name}"


async def drop_database(url: str) -> None:
    """Drop a database ``fresh_database`` made (a bench leaves nothing behind on a real server)."""
    base, name = url.rsplit("/", 1)
    conn = await asyncpg.connect(plain_dsn(base + "/postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@contextmanager
def servers(
    postgres_url: str | None, redis_url: str | None, *, redis: bool = True, durable: bool = False
) -> Iterator[tuple[str, str]]:
    """The URLs to use: given ones, or throwaway servers for those not given (``durable``: as
    production runs them, fsync and AOF on). With ``redis=False`` the second URL is empty."""
    pg = (PostgresServer.durable() if durable else PostgresServer()) if not postgres_url else None
    redis_server = None
    if redis and not redis_url:
        redis_server = RedisServer.durable() if durable else RedisServer()
    try:
        if pg:
            pg.start()
        if redis_server:
            redis_server.start()
        redis_at = redis_server.url if redis_server else (redis_url or "")
        yield (pg.url if pg else str(postgres_url)), redis_at
    finally:
        if redis_server:
            redis_server.cleanup()
        if pg:
            pg.cleanup()
