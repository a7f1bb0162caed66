"""Retention of feed partitions: MINID trimming that never drops an entry a reader still needs.

Redis trimming ignores readers (XTRIM MAXLEN/MINID deletes pending and never-delivered entries
alike; ``ACKED`` arrived only in 8.2), so the safe bound is computed here, per stream:

    minid = min(cutoff,
                for every consumer group: the entry after its last-delivered-id,
                                          and its oldest pending entry (XPENDING), if any,
                for every registered cursor (XREAD readers: the sweeper): the entry after it)

XTRIM MINID removes entries with ids strictly below ``minid``; so every entry a reader has not
yet had, and every entry delivered but not acknowledged, survives, as does everything newer than
the retention cutoff. Computing then trimming is not atomic, and needs not be: between the two the
readers only move forward, which only raises the safe bound. Readers that follow the feed without
a consumer group register their position in the ``{prefix}:cursors`` hash (``FeedCursors``).

Each trim's outcome is kept in ``{prefix}:retention`` (per stream: minid, the reader that held
it back, entries removed, when), for ``resumeflow streams status``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from resumeflow.eventstore.feed import FeedPosition

__all__ = ["FeedCursors", "TrimReport", "last_trims", "safe_minid", "trim_streams"]


def _parse(entry_id: bytes | str) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def _render(entry_id: tuple[int, int]) -> str:
    return f"{entry_id[0]}-{entry_id[1]}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class FeedCursors:
    """Positions of readers that follow the feed with XREAD (no consumer group), by name."""

    def __init__(self, redis: Redis, *, prefix: str, feed_keys: Sequence[str]) -> None:
        self._redis = redis
        self.prefix = prefix
        self.key = f"{prefix}:cursors"
        self.feed_keys = tuple(feed_keys)

    async def get(self, name: str) -> str | None:
        raw = await self._redis.hget(self.key, name)
        return None if raw is None else _text(raw)

    async def set(self, name: str, position: str) -> None:
        await self._redis.hset(self.key, name, position)

    async def per_stream(self) -> dict[str, list[tuple[str, str]]]:
        """For each feed partition, the (reader, last id read) of every registered cursor."""
        out: dict[str, list[tuple[str, str]]] = {key: [] for key in self.feed_keys}
        for name, raw in (await self._redis.hgetall(self.key)).items():
            position = FeedPosition.parse(_text(raw), len(self.feed_keys))
            for key, entry_id in zip(self.feed_keys, position.ids, strict=True):
                out[key].append((_text(name), entry_id))
        return out


@dataclass(frozen=True, slots=True)
class TrimReport:
    stream: str
    minid: str
    """Entries below this id were removed (or would be, in a dry run)."""
    held_by: str | None
    """The reader that kept the bound below the retention cutoff, if any."""
    removed: int
    at_ms: int = 0


async def safe_minid(
    redis: Redis,
    stream: str,
    cutoff: tuple[int, int],
    cursors: Sequence[tuple[str, str]] = (),
) -> tuple[str, str | None]:
    """The highest MINID that keeps every entry a reader still needs, capped at ``cutoff``.

    Returns the id and the name of the reader that held it back (None when the cutoff decided).
    """
    bound, held_by = cutoff, None
    for name, last in cursors:
        ms, seq = _parse(last)
        if (ms, seq + 1) < bound:
            bound, held_by = (ms, seq + 1), name
    try:
        groups: list[dict[str, Any]] = await redis.xinfo_groups(stream)
    except ResponseError as error:  # no such key: nothing to keep, nothing to trim
        if "no such key" in str(error).lower():
            return _render(bound), held_by
        raise
    for group in groups:
        name = _text(group["name"])
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
    cursors: FeedCursors | None = None,
    now_ms: int | None = None,
    approximate: bool = False,
    dry_run: bool = False,
) -> list[TrimReport]:
    """Trim each stream to its safe MINID: entries older than ``retention`` no reader needs.

    ``approximate`` lets Redis keep a few more entries to trim whole nodes (cheaper; still safe,
    since it only ever removes less). ``dry_run`` computes and reports without deleting; a real
    run records its reports for ``last_trims``.
    """
    now = now_ms if now_ms is not None else time.time_ns() // 1_000_000
    cutoff = (max(now - int(retention.total_seconds() * 1000), 0), 0)
    positions = await cursors.per_stream() if cursors is not None else {}
    reports = []
    for stream in streams:
        minid, held_by = await safe_minid(redis, stream, cutoff, positions.get(stream, ()))
        removed = 0
        if not dry_run:
            removed = int(await redis.xtrim(stream, minid=minid, approximate=approximate))
        reports.append(TrimReport(stream, minid, held_by, removed, now))
    if not dry_run and cursors is not None and reports:
        await redis.hset(
            f"{cursors.prefix}:retention",
            mapping={r.stream: json.dumps(asdict(r)) for r in reports},
        )
    return reports


async def last_trims(redis: Redis, prefix: str) -> dict[str, TrimReport]:
    """The last recorded trim of each feed partition."""
    raw = await redis.hgetall(f"{prefix}:retention")
    return {_text(k): TrimReport(**json.loads(v)) for k, v in raw.items()}
