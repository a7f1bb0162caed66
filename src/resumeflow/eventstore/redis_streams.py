"""The event store on Redis Streams: the production log.

Keys (``rf`` is the prefix):

    rf:app:{application_id}       the application's history; entry id = "{version}-0"
    rf:app:{application_id}:idx   hash: ``version`` -> current version, and each appended
                                  event id -> its version (deduplication)
    rf:feed:{n}                   global feed partition n of N, entry ids chosen by Redis

Invariants:
- One Lua script does a whole append (dedupe, version check, XADD to the application's stream and
  to its feed partition, record the ids). No other command runs between the checks and the
  writes, and every check comes before the first write (Redis scripts do not roll back), so an
  append is all or nothing. Redis 7.0 is enough: no IDMP, no WAITAOF.
- The index hash and the application's stream change together, in the script only: the hash's
  ``version`` is the stream's last version (one HGET, no stream scan), and the stream carries the
  version in its entry ids, so Redis itself refuses an out-of-order id should a bug ever try one.
- An application always maps to the same partition (crc32 of its id, mod N); within a partition
  entries are in append order, so each application's events are in version order in the feed.
  N cannot change for an existing log without a migration.
- Deduplication is per application: an event id belongs to exactly one application (its
  envelope names it, and ``check_batch`` refuses a mismatch), so its index is the place to look.
- The index lives exactly as long as the application's stream: both are never trimmed, and expire
  together once the application is terminal and archived (``expire``; eventstore/retention.py).
  Then ``read`` answers from the archive, and an append (an operator's retry) first restores the
  stream and index from it. Every append clears a pending expiry. Feed partitions are trimmed
  by age (eventstore/retention.py).
- In Redis Cluster the three keys of one append would need one slot; the log runs on one primary.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from typing import Any, Protocol, cast
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from resumeflow.domain.errors import ConcurrencyConflict, DuplicateEvent
from resumeflow.domain.events import EventCodec, EventEnvelope, default_codec
from resumeflow.domain.ports import AppendBatch, AppendOutcome, FeedPage
from resumeflow.eventstore.checks import check_batch
from resumeflow.eventstore.feed import Entry, FeedPosition, merge_feed
from resumeflow.eventstore.wire import FIELDS, decode_entry, encode_entry

__all__ = ["APPEND_SCRIPT", "Archive", "RedisStreamEventStore"]

_NAMES = ", ".join(f"'{name}'" for name in FIELDS)

APPEND_SCRIPT = f"""
-- KEYS: application stream, its index hash, its feed partition
-- ARGV: expected version, event count n, the n entries' values (wire FIELDS order) joined by NUL
local names = {{{_NAMES}}}
local width = #names
local expected = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local values = {{}}
local blob, pos = ARGV[3], 1
for k = 1, n * width - 1 do
  local stop = string.find(blob, '\0', pos, true)
  values[k] = string.sub(blob, pos, stop - 1)
  pos = stop + 1
end
values[n * width] = string.sub(blob, pos)

local current = 0
local seen = 0
for start = 0, n - 1, 1000 do
  local fields = {{'version'}}
  for i = start, math.min(start + 999, n - 1) do fields[#fields + 1] = values[i * width + 2] end
  local found = redis.call('HMGET', KEYS[2], unpack(fields))
  current = tonumber(found[1]) or 0
  for k = 2, #found do
    if found[k] then seen = seen + 1 end
  end
end
if seen == n then return {{'noop', current}} end
if seen > 0 then return {{'duplicate', seen}} end
if current ~= expected then return {{'conflict', current}} end

local entry = {{}}
local index = {{'version', expected + n}}
for i = 0, n - 1 do
  local base = i * width
  for j = 1, width do
    entry[2 * j - 1] = names[j]
    entry[2 * j] = values[base + j]
  end
  redis.call('XADD', KEYS[1], (expected + i + 1) .. '-0', unpack(entry))
  redis.call('XADD', KEYS[3], '*', unpack(entry))
  index[#index + 1] = values[base + 2]
  index[#index + 1] = expected + i + 1
  if #index >= 2000 then
    redis.call('HSET', KEYS[2], unpack(index))
    index = {{}}
  end
end
if #index > 0 then redis.call('HSET', KEYS[2], unpack(index)) end
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
return {{'ok', expected + n}}
"""

RESTORE_SCRIPT = f"""
-- KEYS: application stream, its index hash; ARGV: event count n, then n x width values
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local names = {{{_NAMES}}}
local width = #names
local n = tonumber(ARGV[1])
local index = {{'version', n}}
for i = 0, n - 1 do
  local entry = {{}}
  for j = 1, width do
    entry[2 * j - 1] = names[j]
    entry[2 * j] = ARGV[1 + i * width + j]
  end
  redis.call('XADD', KEYS[1], (i + 1) .. '-0', unpack(entry))
  index[#index + 1] = ARGV[1 + i * width + 2]
  index[#index + 1] = i + 1
end
redis.call('HSET', KEYS[2], unpack(index))
return n
"""

EXPIRE_SCRIPT = """
-- KEYS: application stream, its index hash; ARGV: the version it was checked at, milliseconds
if redis.call('HGET', KEYS[2], 'version') ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""


class Archive(Protocol):
    """Where an application's events are once its Redis stream has expired."""

    async def read(
        self, application_id: UUID, *, after_version: int = 0
    ) -> list[EventEnvelope]: ...


class RedisStreamEventStore:
    """EventStore on Redis Streams; pass a client from ``redis_client.create_redis``, and the
    archive (the Postgres events table) wherever expired applications may be read or retried."""

    def __init__(
        self,
        redis: Redis,
        *,
        partitions: int = 4,
        prefix: str = "rf",
        codec: EventCodec | None = None,
        archive: Archive | None = None,
    ) -> None:
        if partitions < 1:
            raise ValueError("partitions must be at least 1")
        self._redis = redis
        self._codec = codec or default_codec()
        self.partitions = partitions
        self.prefix = prefix
        self._archive = archive
        self._sha = hashlib.sha1(APPEND_SCRIPT.encode(), usedforsecurity=False).hexdigest()
        self.feed_keys = tuple(f"{prefix}:feed:{n}" for n in range(partitions))

    def stream_key(self, application_id: UUID) -> str:
        return f"{self.prefix}:app:{application_id}"

    def partition_of(self, application_id: UUID) -> int:
        """Stable across processes and releases (unlike ``hash``): crc32 of the id's bytes."""
        return zlib.crc32(application_id.bytes) % self.partitions

    def _call(self, batch: AppendBatch) -> list[Any]:
        """The script's numkeys, keys and args: the values travel as one NUL-joined argument.

        One argument instead of eleven per event is what keeps the client's command packing
        near raw XADD's; NUL cannot occur in a value (JSON escapes it; ids, times, type names
        and a W3C traceparent have none), and the count check below makes sure of it.
        """
        stream = self.stream_key(batch.application_id)
        values = [v for event in batch.events for v in encode_entry(event, self._codec)]
        blob = "\0".join(values)
        if blob.count("\0") != len(values) - 1:
            raise ValueError("an event field contains NUL, which the wire format cannot carry")
        feed = self.feed_keys[self.partition_of(batch.application_id)]
        return [3, stream, f"{stream}:idx", feed, batch.expected_version, len(batch.events), blob]

    @staticmethod
    def _outcome(batch: AppendBatch, reply: Sequence[Any]) -> AppendOutcome:
        status, number = reply[0], int(reply[1])
        if status in (b"ok", b"noop", "ok", "noop"):
            return number
        if status in (b"conflict", "conflict"):
            return ConcurrencyConflict(batch.application_id, batch.expected_version, number)
        if status in (b"duplicate", "duplicate"):
            return DuplicateEvent(f"{number} of {len(batch.events)} events were appended before")
        raise RuntimeError(f"unexpected reply from the append script: {reply!r}")

    async def append(
        self, application_id: UUID, events: Sequence[EventEnvelope], *, expected_version: int
    ) -> int:
        check_batch(application_id, events, expected_version)
        batch = AppendBatch(application_id, events, expected_version)
        call = self._call(batch)
        try:
            reply = await self._redis.evalsha(self._sha, *call)
        except NoScriptError:  # a restarted or flushed server: load it and go again (idempotent)
            self._sha = await self._redis.script_load(APPEND_SCRIPT)
            reply = await self._redis.evalsha(self._sha, *call)
        outcome = self._outcome(batch, reply)
        if self._expired(batch, outcome) and await self._restore(application_id):
            return await self.append(application_id, events, expected_version=expected_version)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def _expired(self, batch: AppendBatch, outcome: AppendOutcome) -> bool:
        """The conflict an append to an expired application meets: its index is gone."""
        return (
            self._archive is not None
            and isinstance(outcome, ConcurrencyConflict)
            and outcome.actual == 0
            and batch.expected_version > 0
        )

    async def _restore(self, application_id: UUID) -> bool:
        """Put an expired application's stream and index back from the archive."""
        assert self._archive is not None
        history = await self._archive.read(application_id)
        if [e.version for e in history] != list(range(1, len(history) + 1)) or not history:
            return False
        values = [v for event in history for v in encode_entry(event, self._codec)]
        stream = self.stream_key(application_id)
        await self._redis.eval(RESTORE_SCRIPT, 2, stream, f"{stream}:idx", len(history), *values)
        return True

    async def expire(self, versions: dict[UUID, int], *, after_seconds: float) -> int:
        """Let each application's stream and index expire, if it is still at the given version
        (one that moved on since it was checked is left alone). Returns how many were set."""
        ms = max(int(after_seconds * 1000), 1)
        set_ = 0
        items = list(versions.items())
        for start in range(0, len(items), 500):
            async with self._redis.pipeline(transaction=False) as pipe:
                for app, version in items[start : start + 500]:
                    stream = self.stream_key(app)
                    pipe.eval(EXPIRE_SCRIPT, 2, stream, f"{stream}:idx", version, ms)
                set_ += sum(await pipe.execute())
        return set_

    async def versions(self, *, unexpiring_only: bool = False) -> dict[UUID, int]:
        """Every application Redis holds, with its version (only those with no expiry set yet,
        with ``unexpiring_only``): a SCAN of the index keys, then their versions in pipelines."""
        head, tail = f"{self.prefix}:app:", ":idx"
        ids = []
        async for key in self._redis.scan_iter(match=f"{head}*{tail}", count=1000):
            ids.append(UUID(key.decode()[len(head) : -len(tail)]))
        found: dict[UUID, int] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            async with self._redis.pipeline(transaction=False) as pipe:
                for app in chunk:
                    pipe.pttl(f"{head}{app}{tail}")
                    pipe.hget(f"{head}{app}{tail}", "version")
                replies = await pipe.execute()
            for n, app in enumerate(chunk):
                ttl, version = replies[2 * n], replies[2 * n + 1]
                if version is not None and (ttl == -1 or not unexpiring_only):
                    found[app] = int(version)
        return found

    async def append_many(self, batches: Sequence[AppendBatch]) -> list[AppendOutcome]:
        """One round trip for all batches: a pipeline (no MULTI) of one script call per batch.
        Each batch is as atomic and checked as ``append``; batches are independent, run in order,
        and a later batch of the same application sees the earlier ones. If the server lost its
        script cache (a restart), the script is loaded and the whole pipeline sent again, which
        is safe: batches that were written come back as no-ops with their version.
        """
        for batch in batches:
            check_batch(batch.application_id, batch.events, batch.expected_version)
        if not batches:
            return []
        calls = [self._call(batch) for batch in batches]
        for attempt in range(2):
            async with self._redis.pipeline(transaction=False) as pipe:
                for call in calls:
                    pipe.evalsha(self._sha, *call)
                replies = await pipe.execute(raise_on_error=False)
            if not any(isinstance(reply, NoScriptError) for reply in replies):
                break
            if attempt == 0:
                self._sha = await self._redis.script_load(APPEND_SCRIPT)
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        outcomes = [self._outcome(b, r) for b, r in zip(batches, replies, strict=True)]
        for n, (batch, outcome) in enumerate(zip(batches, outcomes, strict=True)):
            if self._expired(batch, outcome):  # rare: one at a time, through ``append``
                try:
                    outcomes[n] = await self.append(
                        batch.application_id, batch.events, expected_version=batch.expected_version
                    )
                except (ConcurrencyConflict, DuplicateEvent) as error:
                    outcomes[n] = error
        return outcomes

    async def read(self, application_id: UUID, *, after_version: int = 0) -> list[EventEnvelope]:
        start = f"{after_version + 1}-0"
        stream = self.stream_key(application_id)
        reply = await self._redis.xrange(stream, start)
        entries = cast(list[Entry], reply)  # responses are not decoded: bytes, never None
        if not entries and self._archive is not None and not await self._redis.exists(stream):
            return await self._archive.read(application_id, after_version=after_version)
        return [decode_entry(fields, self._codec) for _, fields in entries]

    async def read_feed(self, *, after: str | None = None, limit: int = 1000) -> FeedPage:
        """The next ``limit`` events over all partitions, oldest entry id first.

        The position holds the last entry id read from each partition, so following it never
        skips or repeats an entry; a partition is advanced only past the entries returned.
        """
        position = FeedPosition.parse(after, self.partitions)
        streams: dict[Any, Any] = dict(zip(self.feed_keys, position.ids, strict=True))
        reply = cast(list[tuple[bytes, list[Entry]]], await self._redis.xread(streams, count=limit))
        taken, position = merge_feed(self.feed_keys, reply, position, limit)
        events = tuple(decode_entry(fields, self._codec) for _, fields in taken)
        return FeedPage(events=events, position=position.render())
