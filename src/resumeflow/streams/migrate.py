"""Running the Alembic migrations from code (tests, benches, ``projections rebuild``).

Why not shell out to ``alembic``: the caller already has an event loop and an engine; handing
Alembic a connection (``config.attributes["connection"]``, read by ``migrations/env.py``)
runs the same revisions without a second process or a second copy of the URL.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["alembic_config", "downgrade", "upgrade"]

_ROOT = Path(__file__).resolve().parents[3]


def alembic_config(connection: Connection | None = None) -> Config:
    """The project's Alembic config (``alembic.ini`` at the repository root)."""
    config = Config(str(_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(_ROOT / "migrations"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))
