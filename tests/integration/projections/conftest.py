"""Fixtures for the projection tests: one private Postgres per session, a database per test.

A fresh database per test (not truncation) keeps tests independent and order-free; the Redis
side uses the parent conftest's session server with a unique key prefix per test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from uuid import uuid4

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.bootstrap.settings import LogSettings, ProjectionSettings, Settings
from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import upgrade
from tests.servers import PostgresServer, RedisServer


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


async def new_database(pg_server: PostgresServer) -> str:
    """The URL of a new, empty database on ``pg_server``."""
    name = f"t_{uuid4().hex[:16]}"
    conn = await asyncpg.connect(pg_server.dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return pg_server.url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
async def pg_url(pg_server: PostgresServer) -> str:
    """The URL of a new, empty database of its own."""
    return await new_database(pg_server)


@pytest.fixture
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh database migrated to head."""
    engine = create_engine(pg_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def settings(pg_url: str, redis_server: RedisServer, key_prefix: str) -> Settings:
    """Settings for this test's database and key prefix; quick to claim and give up."""
    return Settings(
        database_url=pg_url,
        redis_url=redis_server.url,
        log=LogSettings(stream_prefix=key_prefix, stream_partitions=2),
        projections=ProjectionSettings(
            consumer_name="projector-0",
            batch_size=50,
            polling_interval_ms=50,
            claim_idle_ms=500,
            claim_poll_ms=100,
            max_deliveries=3,
        ),
    )
