"""The feed's health: per consumer group and partition (lag, pending entries, their age, dead
letters) and per partition (length, oldest entry, the last retention trim and who held it back).

Sources: ``XINFO GROUPS`` (Redis 7.0+) gives ``lag`` (entries not yet delivered to the group);
``XPENDING`` gives the pending count and, via its first entry in id order, the oldest pending
entry's idle time; the ``dead_letters`` table gives the count per group. A lag of None means
Redis cannot tell (e.g. after the stream was trimmed past the group's position).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.database.tables import dead_letters
from resumeflow.eventstore.retention import last_trims

__all__ = ["GroupStatus", "PartitionStatus", "partition_status", "stream_status"]


@dataclass(frozen=True)
class GroupStatus:
    group: str
    stream: str
    lag: int | None
    pending: int
    oldest_pending_ms: int | None
    consumers: int
    dead_letters: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def stream_status(
    redis: Redis, engine: AsyncEngine | None, streams: Sequence[str], groups: Sequence[str]
) -> list[GroupStatus]:
    dead: dict[tuple[str, str], int] = {}
    if engine is not None:
        async with engine.connect() as conn:
            query = select(dead_letters.c.consumer_group, dead_letters.c.stream, func.count())
            for group, stream, n in await conn.execute(
                query.group_by(dead_letters.c.consumer_group, dead_letters.c.stream)
            ):
                dead[(group, stream)] = int(n)
    report: list[GroupStatus] = []
    for stream in streams:
        try:
            infos = await redis.xinfo_groups(stream)
        except ResponseError:  # no such stream yet: nothing appended, nothing to report
            infos = []
        known = {_text(info["name"]): info for info in infos}
        for group in groups:
            info = known.get(group)
            if info is None:
                report.append(
                    GroupStatus(group, stream, None, 0, None, 0, dead.get((group, stream), 0))
                )
                continue
            oldest = None
            if int(info["pending"]):
                first = await redis.xpending_range(stream, group, min="-", max="+", count=1)
                oldest = int(first[0]["time_since_delivered"]) if first else None
            lag = info.get("lag")
            report.append(
                GroupStatus(
                    group=group,
                    stream=stream,
                    lag=None if lag is None else int(lag),
                    pending=int(info["pending"]),
                    oldest_pending_ms=oldest,
                    consumers=int(info["consumers"]),
                    dead_letters=dead.get((group, stream), 0),
                )
            )
    return report


@dataclass(frozen=True)
class PartitionStatus:
    stream: str
    length: int
    first_entry: str | None
    last_trim_minid: str | None
    last_trim_held_by: str | None
    last_trim_removed: int | None
    last_trim_at_ms: int | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def partition_status(
    redis: Redis, streams: Sequence[str], prefix: str
) -> list[PartitionStatus]:
    """Length and first entry of each partition, and what the last retention trim did."""
    trims = await last_trims(redis, prefix)
    report = []
    for stream in streams:
        length = int(await redis.xlen(stream))
        first = await redis.xrange(stream, count=1)
        trim = trims.get(stream)
        report.append(
            PartitionStatus(
                stream=stream,
                length=length,
                first_entry=_text(first[0][0]) if first else None,
                last_trim_minid=trim.minid if trim else None,
                last_trim_held_by=trim.held_by if trim else None,
                last_trim_removed=trim.removed if trim else None,
                last_trim_at_ms=trim.at_ms if trim else None,
            )
        )
    return report
