"""Bounded Redis: a finished application's stream and index expire once the archive holds it.

The Redis log keeps what is in flight; the Postgres archive keeps everything. An application is
let go from Redis when it is terminal (``completed``, or ``failed``: a later retry restores it
from the archive) and every one of its events is archived, checked at the version Redis has now;
its keys then expire after ``after_seconds``. Reads of an expired application come from the
archive (``RedisStreamEventStore``). The projector runs this with the feed's trim.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.database.tables import applications, events
from resumeflow.domain.application import Status
from resumeflow.eventstore.redis_streams import RedisStreamEventStore

__all__ = ["expire_finished", "finished_and_archived"]

_CHUNK = 500
_TERMINAL = [s.value for s in Status if s.is_terminal]


async def finished_and_archived(engine: AsyncEngine, versions: dict[UUID, int]) -> dict[UUID, int]:
    """Those of ``versions`` whose row is terminal at that version, with every event archived."""
    found: dict[UUID, int] = {}
    ids = list(versions)
    async with engine.connect() as conn:
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            rows = await conn.execute(
                select(applications.c.id, applications.c.version).where(
                    applications.c.id.in_(chunk), applications.c.status.in_(_TERMINAL)
                )
            )
            terminal = {app: version for app, version in rows if version == versions[app]}
            if not terminal:
                continue
            counts = await conn.execute(
                select(events.c.application_id, func.count())
                .where(events.c.application_id.in_(list(terminal)))
                .group_by(events.c.application_id)
            )
            found |= {app: terminal[app] for app, n in counts if n == terminal[app]}
    return found


async def expire_finished(
    store: RedisStreamEventStore, engine: AsyncEngine, *, after_seconds: float
) -> int:
    """Set the expiry of every finished, archived application in Redis; how many were set."""
    finished = await finished_and_archived(engine, await store.versions(unexpiring_only=True))
    return await store.expire(finished, after_seconds=after_seconds)
