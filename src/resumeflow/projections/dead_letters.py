"""Dead letters: what the projector could not apply, listed, and fed back once fixed.

A redrive appends the dead entry's fields to its feed partition again (a new entry, the same
event): the projector applies it like any delivery, so nothing but the projector writes the read
models, and the projections' guards make a redrive of an event already applied a no-op. If the
cause is not fixed, it fails again and comes back as a new dead letter.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.database.tables import dead_letters

__all__ = ["dead_letter_page", "redrive"]

_d = dead_letters.c


async def dead_letter_page(
    engine: AsyncEngine, *, after: int | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], int | None]:
    """Newest first; returns the rows and the cursor of the next page (None on the last)."""
    query = select(dead_letters).order_by(_d.id.desc()).limit(limit)
    if after is not None:
        query = query.where(_d.id < after)
    async with engine.connect() as conn:
        rows = [dict(r) for r in (await conn.execute(query)).mappings()]
    return rows, (rows[-1]["id"] if len(rows) == limit else None)


async def redrive(engine: AsyncEngine, redis: Redis, dead_letter_id: int) -> dict[str, Any] | None:
    """Feed a dead letter's entry to the projector again; None when there is no such one."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(select(dead_letters).where(_d.id == dead_letter_id))
        ).mappings().first()  # fmt: skip
    if row is None:
        return None
    fields: dict[str, str] = dict(row["event"])
    entry = await redis.xadd(row["stream"], fields)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(
            dead_letters.update().where(_d.id == dead_letter_id).values(redriven_at=now)
        )
    return dict(row) | {"redriven_at": now, "new_entry_id": _text(entry)}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
