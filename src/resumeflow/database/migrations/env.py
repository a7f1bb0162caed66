"""Alembic environment: async engine on asyncpg, target metadata from ``database.tables``.

The URL is, in order: a connection handed in by the caller (``config.attributes["connection"]``,
how tests and ``projections rebuild`` run migrations inside their own event loop), ``-x url=...``,
the ``sqlalchemy.url`` option of the Config, or RESUMEFLOW_DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from resumeflow.database.tables import metadata

config = context.config
target_metadata = metadata


def _url() -> str:
    url = (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("RESUMEFLOW_DATABASE_URL")
    )
    if not url:
        raise RuntimeError("no database URL: set RESUMEFLOW_DATABASE_URL or pass -x url=...")
    return url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying tables
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(_url(), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
