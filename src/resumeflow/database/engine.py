"""Engines for the event store and read models: SQLite (embedded) or Postgres (asyncpg)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ["create_engine"]


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An async engine; on SQLite every transaction takes the write lock up front.

    SQLite's default deferred transactions fail at once with "database is locked" when two
    readers both try to upgrade to writers; ``BEGIN IMMEDIATE`` makes the second wait instead
    (SQLAlchemy's documented pysqlite recipe). WAL lets readers proceed meanwhile.

    Postgres connections are pinged on checkout: after a server restart every pooled connection
    is dead, and the projector writes through the raw asyncpg connection, where SQLAlchemy never
    sees the disconnect that would invalidate the pool.
    """
    if not url.startswith("sqlite"):
        return create_async_engine(url, **{"pool_pre_ping": True, **options})
    engine = create_async_engine(url, connect_args={"timeout": 30}, **options)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below be the only one
        cursor = dbapi_connection.cursor()
        if ":memory:" not in url:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
