"""Append throughput of the Redis event store beside raw redis-py XADD of the same payloads.

What is compared, in one run against one server, with the same number of concurrent tasks:

- single: ``store.append`` of one event, awaited, with its expected-version check, against one
  awaited ``XADD`` of the same fields to a per-application stream;
- batch: ``store.append_many`` of ``batch_size`` events (whole application histories), against a
  pipeline of ``batch_size`` XADDs, one ``execute`` per batch.

The raw side gets its fields pre-encoded; the store's timing includes encoding the envelopes, the
dedupe and version checks, and the second XADD to the feed partition: the whole price of the
guarantees. Keys live under a fresh prefix and are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar
from uuid import UUID, uuid4

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from resumeflow.domain.documents import DocumentFormat
from resumeflow.domain.events import ApplicationReceived, EventEnvelope, FileStored
from resumeflow.domain.ports import AppendBatch
from resumeflow.eventstore.redis_client import create_redis
from resumeflow.eventstore.redis_streams import RedisStreamEventStore
from resumeflow.eventstore.wire import FIELDS, encode_entry

__all__ = ["HISTORY_LENGTH", "SLICE_EVENTS", "run_append_bench"]

_T = TypeVar("_T")

HISTORY_LENGTH = 5
"""Events per synthetic application: received, then stored (the version check is real)."""


def _histories(events: int) -> list[list[EventEnvelope]]:
    apps = max(1, -(-events // HISTORY_LENGTH))
    histories = []
    for _ in range(apps):
        app = uuid4()
        received = ApplicationReceived(
            job_post_id=UUID(int=1),
            email="bench@example.org",
            name="Bench Mark",
            filename="resume.pdf",
            format=DocumentFormat.PDF,
            size_bytes=48_213,
            sha256="ab" * 32,
            inbox_key="inbox/" + "ab" * 32,
        )
        stored = FileStored(
            blob_key="sha256/ab/" + "ab" * 32, sha256="ab" * 32, size_bytes=48_213, store="s3"
        )
        payloads = [received] + [stored] * (HISTORY_LENGTH - 1)
        histories.append(
            [
                EventEnvelope.new(application_id=app, version=n, payload=p)
                for n, p in enumerate(payloads, start=1)
            ]
        )
    return histories


async def _spread(concurrency: int, jobs: Sequence[Callable[[], Awaitable[object]]]) -> float:
    """Run ``jobs`` on ``concurrency`` tasks (each job awaited in turn); seconds taken."""
    queue = iter(jobs)

    async def worker() -> None:
        for job in queue:
            await job()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


async def _cleanup(redis: Redis, prefix: str) -> None:
    keys: list[bytes] = []
    async for key in redis.scan_iter(match=f"{prefix}:*", count=1000):
        keys.append(key)
        if len(keys) >= 1000:
            await redis.unlink(*keys)
            keys.clear()
    if keys:
        await redis.unlink(*keys)


Job = Callable[[], Awaitable[object]]
Fields = dict[FieldT, EncodableT]


def _chunks(items: list[_T], size: int) -> list[list[_T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class _Bench:
    """The four ways of appending, as jobs over whole application histories."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.store = RedisStreamEventStore(redis, prefix=prefix)
        self.prefix = prefix

    def raw(self, history: list[EventEnvelope]) -> tuple[str, list[Fields]]:
        """The same payloads, pre-encoded, for a stream of their own."""
        key = f"{self.prefix}:raw:{history[0].application_id}"
        return key, [dict(zip(FIELDS, encode_entry(e), strict=True)) for e in history]

    def store_single(self, history: list[EventEnvelope]) -> Job:
        async def job() -> None:
            for event in history:
                await self.store.append(
                    event.application_id, [event], expected_version=event.version - 1
                )

        return job

    def raw_single(self, history: list[EventEnvelope]) -> Job:
        key, entries = self.raw(history)

        async def job() -> None:
            for entry in entries:
                await self.redis.xadd(key, entry)

        return job

    def store_batch(self, histories: list[list[EventEnvelope]]) -> Job:
        batches = [AppendBatch(h[0].application_id, h, 0) for h in histories]
        return lambda: self.store.append_many(batches)

    def raw_batch(self, histories: list[list[EventEnvelope]]) -> Job:
        raws = [self.raw(h) for h in histories]

        async def job() -> None:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key, entries in raws:
                    for entry in entries:
                        pipe.xadd(key, entry)
                await pipe.execute()

        return job


SLICE_EVENTS = 1000
"""Events per measured slice; the store and raw XADD alternate slice by slice."""


async def run_append_bench(
    redis_url: str, *, events: int, batch_size: int, concurrency: int = 16, rounds: int = 3
) -> dict[str, float]:
    """Events per second of each way of appending, and the store's ratios to raw XADD.

    ``ratio_single`` = store single / raw single; ``ratio_batch`` = store batch / raw batch.
    Each round appends ``events`` fresh events each way, raw XADD on the very same envelopes as
    the store. Why slices: the two sides alternate in slices of about a second or less, so a
    burst of load from elsewhere on the machine hits both alike and the ratio stays honest.
    Each figure is the median over rounds. Counts round up to whole histories.
    """
    if min(events, batch_size, concurrency, rounds) < 1:
        raise ValueError("events, batch_size, concurrency and rounds must be positive")
    prefix = f"rfbench:{uuid4().hex[:12]}"
    redis = create_redis(redis_url, max_connections=concurrency + 2)
    bench = _Bench(redis, prefix)
    per_batch = max(1, batch_size // HISTORY_LENGTH)
    single_slice = max(1, SLICE_EVENTS // HISTORY_LENGTH)
    batch_slice = max(single_slice, 2 * concurrency * per_batch)
    figures: dict[str, list[float]] = {}
    total = 0

    async def paired(
        spent: dict[str, float], flip: bool, raw: tuple[str, list[Job]], ours: tuple[str, list[Job]]
    ) -> None:
        for name, jobs in (ours, raw) if flip else (raw, ours):
            spent[name] += await _spread(concurrency, jobs)

    try:
        warmup = _histories(concurrency * HISTORY_LENGTH)
        await _spread(concurrency, [bench.store_single(h) for h in warmup])
        await _spread(concurrency, [bench.raw_single(h) for h in warmup])
        for round_ in range(rounds):
            spent = dict.fromkeys(("raw_single", "single", "raw_batch", "batch"), 0.0)
            singles, batched = _histories(events), _histories(events)
            total = len(singles) * HISTORY_LENGTH
            for k, part in enumerate(_chunks(singles, single_slice)):
                await paired(
                    spent,
                    (round_ + k) % 2 == 1,
                    ("raw_single", [bench.raw_single(h) for h in part]),
                    ("single", [bench.store_single(h) for h in part]),
                )
            for k, part in enumerate(_chunks(batched, batch_slice)):
                groups = _chunks(part, per_batch)
                await paired(
                    spent,
                    (round_ + k) % 2 == 1,
                    ("raw_batch", [bench.raw_batch(g) for g in groups]),
                    ("batch", [bench.store_batch(g) for g in groups]),
                )
            rates = {f"{name}_rate": total / max(s, 1e-9) for name, s in spent.items()}
            rates["ratio_single"] = rates["single_rate"] / rates["raw_single_rate"]
            rates["ratio_batch"] = rates["batch_rate"] / rates["raw_batch_rate"]
            for name, value in rates.items():
                figures.setdefault(name, []).append(value)
    finally:
        await _cleanup(redis, prefix)
        await redis.aclose()
    return {
        **{name: statistics.median(values) for name, values in figures.items()},
        "events": float(total),
        "batch_size": float(per_batch * HISTORY_LENGTH),
        "concurrency": float(concurrency),
        "rounds": float(rounds),
    }
