"""Retention of feed partitions: MINID trimming that never drops an entry a group still needs.

Redis trimming ignores consumer groups (XTRIM MAXLEN/MINID deletes pending and never-delivered
entries alike; ``ACKED`` arrived only in 8.2), so the safe bound is computed here, per stream:

    minid = min(cutoff,
                for every group: the entry after its last-delivered-id,
                                 and its oldest pending entry (XPENDING), if any)

XTRIM MINID removes entries with ids strictly below ``minid``; so every entry a group has not yet
been delivered, and every entry delivered but not acknowledged, survives, as does everything
newer than the retention cutoff. Computing then trimming is not atomic, and needs not be: between
the two a group's last-delivered-id and oldest pending id only move forward, which only raises
the safe bound. (Moving a group back with XGROUP SETID is a replay; replays read Postgres.)

Only feed partitions are trimmed; application streams hold the version and dedupe state.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

__all__ = ["TrimReport", "safe_minid", "trim_streams"]


def _parse(entry_id: bytes | str) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def _render(entry_id: tuple[int, int]) -> str:
    return f"{entry_id[0]}-{entry_id[1]}"


@dataclass(frozen=True, slots=True)
class TrimReport:
    stream: str
    minid: str
    """Entries below this id were removed (or would be, in a dry run)."""
    held_by: str | None
    """The group that kept the bound below the retention cutoff, if any."""
    removed: int


async def safe_minid(redis: Redis, stream: str, cutoff: tuple[int, int]) -> tuple[str, str | None]:
    """The highest MINID that keeps every entry some group has not acknowledged, capped at cutoff.

    Returns the id and the name of the group that held it back (None when the cutoff decided).
    """
    bound, held_by = cutoff, None
    try:
        groups: list[dict[str, Any]] = await redis.xinfo_groups(stream)
    except ResponseError as error:  # no such key: nothing to keep, nothing to trim
        if "no such key" in str(error).lower():
            return _render(cutoff), None
        raise
    for group in groups:
        name = group["name"].decode() if isinstance(group["name"], bytes) else str(group["name"])
        ms, seq = _parse(group["last-delivered-id"])
        undelivered = (ms, seq + 1)  # the first id after the last delivered one
        if undelivered < bound:
            bound, held_by = undelivered, name
        if int(group["pending"]):
            summary = await redis.xpending(stream, name)
            oldest = summary.get("min")
            if oldest is not None and _parse(oldest) < bound:
                bound, held_by = _parse(oldest), name
    return _render(bound), held_by


async def trim_streams(
    redis: Redis,
    streams: Iterable[str],
    *,
    retention: timedelta,
    now_ms: int | None = None,
    approximate: bool = False,
    dry_run: bool = False,
) -> list[TrimReport]:
    """Trim each stream to its safe MINID: entries older than ``retention`` that no group needs.

    ``approximate`` lets Redis keep a few more entries to trim whole nodes (cheaper; still safe,
    since it only ever removes less). ``dry_run`` computes and reports without deleting.
    """
    now = now_ms if now_ms is not None else time.time_ns() // 1_000_000
    cutoff = (max(now - int(retention.total_seconds() * 1000), 0), 0)
    reports = []
    for stream in streams:
        minid, held_by = await safe_minid(redis, stream, cutoff)
        removed = 0
        if not dry_run:
            removed = int(await redis.xtrim(stream, minid=minid, approximate=approximate))
        reports.append(TrimReport(stream=stream, minid=minid, held_by=held_by, removed=removed))
    return reports
