"""Retention never trims an entry some consumer group has not acknowledged."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from typing import Any, cast

import pytest
from redis.asyncio import Redis

from resumeflow.eventstore.feed import Entry
from resumeflow.eventstore.redis_streams import RedisStreamEventStore
from resumeflow.eventstore.retention import FeedCursors, last_trims, trim_streams
from tests.conftest import REPO_ROOT
from tests.factories import happy_history

pytestmark = pytest.mark.integration

HOUR_MS = 3_600_000
NOW_MS = 1_780_000_000_000


async def _ids(redis: Redis, stream: str) -> list[int]:
    """Which of the test's entries (numbered by the hour they were added) are still there."""
    entries = cast(list[Entry], await redis.xrange(stream))
    return [(int(i.split(b"-")[0]) - (NOW_MS - 10 * HOUR_MS)) // HOUR_MS for i, _ in entries]


async def _deliver(redis: Redis, stream: str, group: str, count: int | None = None) -> list[bytes]:
    """Ids XREADGROUP delivered to ``group`` (one consumer per group is enough here)."""
    reply = cast(
        list[tuple[bytes, list[Entry]]],
        await redis.xreadgroup(group, f"{group}-0", {stream: ">"}, count=count),
    )
    return [entry_id for entry_id, _ in reply[0][1]]


@pytest.fixture
async def stream(redis: Redis, key_prefix: str) -> str:
    """Ten entries, one an hour, from 10 h ago to 1 h ago (entry n was added n hours in)."""
    name = f"{key_prefix}:feed:0"
    for n in range(10):
        await redis.xadd(name, {"n": str(n)}, id=f"{NOW_MS - (10 - n) * HOUR_MS}-0")
    return name


async def test_pending_and_undelivered_entries_survive_trimming(redis: Redis, stream: str) -> None:
    await redis.xgroup_create(stream, "projector", id="0")
    ids = await _deliver(redis, stream, "projector", 6)
    await redis.xack(stream, "projector", *ids[:3])  # 0-2 acked; 3-5 pending; 6-9 undelivered

    (report,) = await trim_streams(redis, [stream], retention=timedelta(0), now_ms=NOW_MS)
    assert await _ids(redis, stream) == [3, 4, 5, 6, 7, 8, 9]
    assert (report.removed, report.held_by) == (3, "projector")

    await redis.xack(stream, "projector", *ids[3:])
    await trim_streams(redis, [stream], retention=timedelta(0), now_ms=NOW_MS)
    assert await _ids(redis, stream) == [
        6,
        7,
        8,
        9,
    ]  # delivered and acked: gone; never delivered: kept
    pending = await redis.xpending(stream, "projector")
    assert pending["pending"] == 0


async def test_the_slowest_group_and_the_retention_cutoff_both_bound_the_trim(
    redis: Redis, stream: str
) -> None:
    for group in ("fast", "slow"):
        await redis.xgroup_create(stream, group, id="0")
    await redis.xack(stream, "fast", *await _deliver(redis, stream, "fast"))
    await redis.xack(stream, "slow", *await _deliver(redis, stream, "slow", 8))

    (dry,) = await trim_streams(
        redis, [stream], retention=timedelta(0), now_ms=NOW_MS, dry_run=True
    )
    assert dry.held_by == "slow" and dry.removed == 0 and len(await _ids(redis, stream)) == 10

    # everything of the first 8 hours is acked by both, but 4.5 h of retention keep entries 6-9
    (report,) = await trim_streams(
        redis, [stream], retention=timedelta(hours=4, minutes=30), now_ms=NOW_MS
    )
    assert report.held_by is None
    assert await _ids(redis, stream) == [6, 7, 8, 9]

    (report,) = await trim_streams(redis, [stream], retention=timedelta(0), now_ms=NOW_MS)
    assert report.held_by == "slow"
    assert await _ids(redis, stream) == [8, 9]  # never delivered to "slow"


async def test_a_missing_stream_is_nothing_to_trim(redis: Redis, key_prefix: str) -> None:
    (report,) = await trim_streams(redis, [f"{key_prefix}:none"], retention=timedelta(hours=1))
    assert report.removed == 0 and report.held_by is None


async def test_the_runbook_retention_snippet_runs(redis: Redis, key_prefix: str) -> None:
    """docs/operations/redis.md shows how to trim; that code runs as shown."""
    text = (REPO_ROOT / "docs" / "operations" / "redis.md").read_text()
    snippet = textwrap.dedent(
        text.split("(a dry run removes nothing):\n\n", 1)[1].split("\n\n", 1)[0]
    )
    store = RedisStreamEventStore(redis, partitions=2, prefix=key_prefix)
    history = happy_history(stages=1)
    await store.append(history[0].application_id, history, expected_version=0)
    namespace: dict[str, Any] = {}
    exec("async def snippet(redis, store):\n" + textwrap.indent(snippet, "    "), namespace)
    await namespace["snippet"](redis, store)
    assert len((await store.read_feed()).events) == 2  # a dry run, and younger than 7 days


async def test_a_registered_cursor_holds_the_trim_back_and_the_trim_is_recorded(
    redis: Redis, stream: str, key_prefix: str
) -> None:
    """The sweeper follows the feed with XREAD, not a group: its registered position counts."""
    await redis.xgroup_create(stream, "projector", id="0")
    await redis.xack(stream, "projector", *await _deliver(redis, stream, "projector"))
    cursors = FeedCursors(redis, prefix=key_prefix, feed_keys=[stream])
    fourth = f"{NOW_MS - 7 * HOUR_MS}-0"  # the sweeper has read entries 0-3
    await cursors.set("sweeper", f"1|{fourth}")
    (report,) = await trim_streams(
        redis, [stream], retention=timedelta(0), cursors=cursors, now_ms=NOW_MS
    )
    assert await _ids(redis, stream) == [4, 5, 6, 7, 8, 9]
    assert (report.held_by, report.removed) == ("sweeper", 4)
    recorded = await last_trims(redis, key_prefix)
    assert recorded == {stream: report} and recorded[stream].at_ms == NOW_MS
