"""``resumeflow bench project``: projector throughput beside a raw upsert, and lag at 2,000/s.

Throughput: N applications' histories are appended to the feed, all N in flight at once (version
1 of every application, then version 2, ...), then the real projector (the FastStream app,
applications group only) drains them; events per second is measured from start to the last
commit. The baseline upserts the same rows (per partition and batch of ``batch_size`` entries in
stream order, the state after the batch of each application touched: exactly what the projector
writes; folded in advance and untimed) with asyncpg ``executemany``, one transaction per batch,
into the same table of a fresh database: the projector's cost with no Redis, no decoding, no fold
and no reads. ``ratio`` = projector / raw. The two sides alternate over ``rounds`` rounds (who
goes first alternates too), each on fresh databases and streams; ``ratio`` is the median of the
rounds' ratios (all are in ``ratios``), the rates the medians of each side's.

Lag: a producer process appends at a steady rate; each committed entry's lag is commit time minus
the entry id's time (Redis's clock at XADD, same machine). ``lag_p99_ms`` is over the steady
part of the run (the first second is warm-up). The lag run is repeated ``rounds`` times; the
figures are those of the run with the median p99 (every run's p99 is in ``lag_p99_ms_runs``).

The lag is the projector's in its steady state: its state cache is sized to the feed
(``LAG_STATE_CACHE``), so it is full a few seconds in. While a cache fills, every new
application adds objects the garbage collector must walk once, and at 2,000 events/s a default
10,000-entry cache fills for ~35 s with a ~100 ms young collection every ~10 s; a full cache only
replaces entries, and then collections stop (docs/operations/projections.md). The harness keeps
its samples in flat arrays for the same reason, and the producer encodes its events before the
clock starts so the load generator takes as little of the machine's CPU as it can.
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import sys
import time
import zlib
from array import array
from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid4

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
from redis.asyncio import Redis

from resumeflow.bench.common import drop_database, fresh_database, plain_dsn
from resumeflow.bench.histories import IN_FLIGHT, histories, interleaved
from resumeflow.bootstrap.projector import projector_runtime
from resumeflow.domain.application import ApplicationState, apply
from resumeflow.domain.events import EventEnvelope
from resumeflow.domain.ports import AppendBatch
from resumeflow.streams.database import create_engine
from resumeflow.streams.migrate import upgrade
from resumeflow.streams.projection import row_from_state
from resumeflow.streams.redis_client import create_redis
from resumeflow.streams.redis_store import RedisStreamEventStore
from resumeflow.streams.settings import ProjectorSettings
from resumeflow.streams.tables import applications

__all__ = ["LAG_STATE_CACHE", "bench_project"]

_WARM_UP_MS = 1000
LAG_STATE_CACHE = 2 * IN_FLIGHT
"""The lag run's state cache: twice the applications the producer keeps in flight, so it is
full (the projector's steady state) after ~3 s instead of ~35 s for the default 10,000."""

_COLUMNS = [c.name for c in applications.columns]
_SET = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c != "id")
_UPSERT = (  # column names from our own metadata; every value is a bound parameter
    f"INSERT INTO applications ({', '.join(_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join(f'${n}' for n in range(1, len(_COLUMNS) + 1))}) "
    f"ON CONFLICT (id) DO UPDATE SET {_SET} WHERE applications.version < excluded.version"
)


def _raw_record(row: dict[str, Any]) -> tuple[Any, ...]:
    json_columns = {"parsed", "json_resume", "embedded_value", "score_breakdown"}
    return tuple(
        json.dumps(row[c]) if c in json_columns and row[c] is not None else row[c] for c in _COLUMNS
    )


async def _raw_upsert(dsn: str, batches: Sequence[Sequence[tuple[Any, ...]]]) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        for batch in batches:
            async with conn.transaction():
                await conn.executemany(_UPSERT, batch)
        return time.perf_counter() - started
    finally:
        await conn.close()


def _raw_batches(
    order: Sequence[EventEnvelope], batch_size: int, partitions: int
) -> list[list[tuple[Any, ...]]]:
    """The rows the projector writes: per feed partition, per batch of ``batch_size`` entries in
    stream order, the state after the batch of each application it touched."""
    streams: dict[int, list[EventEnvelope]] = {}
    for event in order:
        partition = zlib.crc32(event.application_id.bytes) % partitions  # as the store places it
        streams.setdefault(partition, []).append(event)
    states: dict[UUID, ApplicationState | None] = {}
    batches = []
    for stream in streams.values():
        for start in range(0, len(stream), batch_size):
            touched: dict[UUID, ApplicationState] = {}
            for event in stream[start : start + batch_size]:
                state = apply(states.get(event.application_id), event)
                states[event.application_id] = touched[event.application_id] = state
            batches.append([_raw_record(row_from_state(s)) for s in touched.values()])
    return batches


async def _migrated_database(postgres_url: str, made: list[str]) -> str:
    """A fresh database at the schema's head; its URL is added to ``made`` (dropped at the end)."""
    url = await fresh_database(postgres_url)
    made.append(url)
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    return url


async def _drain(settings: ProjectorSettings, expected: int) -> float:
    """Run the projector until ``expected`` entries are committed; seconds from start."""
    done = asyncio.Event()
    applied = 0

    def count(_stream: str, ids: Sequence[bytes]) -> None:
        nonlocal applied
        applied += len(ids)
        if applied >= expected:
            done.set()

    async with projector_runtime(settings, on_applied=count, groups=("applications",)) as rt:
        started = time.perf_counter()
        task = asyncio.create_task(rt.app.run())
        await asyncio.wait_for(done.wait(), 600)
        elapsed = time.perf_counter() - started
        rt.app.exit()
        await task
    return elapsed


async def _lag(settings: ProjectorSettings, rate: int, seconds: float) -> dict[str, float]:
    # Two flat arrays, not a tuple per entry: 2,000 tuples a second kept alive would be the
    # garbage collector's work in the measured process (a young collection walks every object
    # still alive since the last one), the harness adding pauses to the lag it measures.
    committed_at, lags = array("d"), array("d")

    def record(_stream: str, ids: Sequence[bytes]) -> None:
        now = time.time() * 1000
        for entry_id in ids:
            committed_at.append(now)
            lags.append(now - int(entry_id.split(b"-")[0]))

    async with projector_runtime(settings, on_applied=record, groups=("applications",)) as rt:
        task = asyncio.create_task(rt.app.run())
        await asyncio.sleep(1.0)
        producer = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "resumeflow.bench.producer", settings.redis_url,
            settings.stream_prefix, str(settings.stream_partitions), str(rate), str(seconds),
        )  # fmt: skip
        if await producer.wait():
            raise RuntimeError(f"the producer failed with exit code {producer.returncode}")
        await asyncio.sleep(1.0)
        rt.app.exit()
        await task
    if not lags:
        raise RuntimeError("the projector applied nothing during the lag run")
    first = committed_at[0]
    steady = sorted(
        lag for at, lag in zip(committed_at, lags, strict=True) if at - first > _WARM_UP_MS
    )
    return {
        "lag_p50_ms": round(statistics.median(steady), 2),
        "lag_p99_ms": round(steady[int(len(steady) * 0.99) - 1], 2),
        "lag_max_ms": round(steady[-1], 2),
        "lag_events": len(steady),
        "rate_events_per_s": round(len(lags) / (committed_at[-1] - first) * 1000, 1),
    }


async def _throughput(
    postgres_url: str,
    redis: Redis,
    prefix: str,
    base: dict[str, Any],
    applications_count: int,
    rounds: int,
    made: list[str],
) -> tuple[int, list[float], list[float]]:
    """Events, and the projector's and the raw upsert's events/s per round.

    The sides alternate (who goes first alternates too), each round on fresh databases and
    streams, so a burst of load from elsewhere on the machine hits both alike.
    """
    feed = interleaved(histories(applications_count), width=applications_count)
    raw_batches = _raw_batches(feed, base["batch_size"], base["stream_partitions"])

    async def projector_side(round_: int) -> float:
        url = await _migrated_database(postgres_url, made)
        stream_prefix = f"{prefix}r{round_}"
        store = RedisStreamEventStore(
            redis, partitions=base["stream_partitions"], prefix=stream_prefix
        )
        for start in range(0, len(feed), 1000):
            chunk = feed[start : start + 1000]
            await store.append_many(
                [AppendBatch(e.application_id, [e], e.version - 1) for e in chunk]
            )
        settings = ProjectorSettings(postgres_url=url, stream_prefix=stream_prefix, **base)
        return len(feed) / await _drain(settings, len(feed))

    async def raw_side() -> float:
        url = await _migrated_database(postgres_url, made)
        return len(feed) / await _raw_upsert(plain_dsn(url), raw_batches)

    projector_rates, raw_rates = [], []
    for round_ in range(rounds):
        if round_ % 2:
            raw_rates.append(await raw_side())
            projector_rates.append(await projector_side(round_))
        else:
            projector_rates.append(await projector_side(round_))
            raw_rates.append(await raw_side())
    return len(feed), projector_rates, raw_rates


async def bench_project(
    postgres_url: str,
    redis_url: str,
    *,
    applications_count: int = 5000,
    batch_size: int = 500,
    partitions: int = 4,
    rate: int = 2000,
    lag_seconds: float = 10.0,
    rounds: int = 3,
) -> dict[str, Any]:
    prefix = f"bench{uuid4().hex[:8]}"
    base = dict(redis_url=redis_url, stream_partitions=partitions, batch_size=batch_size,
                consumer_name="bench-0", polling_interval_ms=100, claim_idle_ms=60_000)  # fmt: skip
    redis = create_redis(redis_url)
    made: list[str] = []
    try:
        return await _bench(postgres_url, redis, prefix, base, applications_count, rate,
                            lag_seconds, rounds, made)  # fmt: skip
    finally:
        async for key in redis.scan_iter(match=f"{prefix}*"):
            await redis.delete(key)
        await redis.aclose()
        for url in made:
            await drop_database(url)


async def _bench(
    postgres_url: str,
    redis: Redis,
    prefix: str,
    base: dict[str, Any],
    applications_count: int,
    rate: int,
    lag_seconds: float,
    rounds: int,
    made: list[str],
) -> dict[str, Any]:
    events, projector_rates, raw_rates = await _throughput(
        postgres_url, redis, prefix, base, applications_count, rounds, made
    )
    ratios = [p / r for p, r in zip(projector_rates, raw_rates, strict=True)]
    # The lag runs share this process: the throughput runs' data is garbage now; collect it, or
    # a full collection during a lag run walks it (a pause the lag's tail would measure).
    gc.collect()

    lags = []
    for round_ in range(rounds):
        lag_settings = ProjectorSettings(
            postgres_url=await _migrated_database(postgres_url, made),
            stream_prefix=f"{prefix}lag{round_}",
            **{**base, "state_cache_size": LAG_STATE_CACHE},
        )
        lags.append(await _lag(lag_settings, rate, lag_seconds))
    median_p99 = statistics.median(run["lag_p99_ms"] for run in lags)
    lag = min(lags, key=lambda run: abs(run["lag_p99_ms"] - median_p99))
    return {
        "events": events,
        "batch_size": base["batch_size"],
        "partitions": base["stream_partitions"],
        "rounds": rounds,
        "projector_events_per_s": round(statistics.median(projector_rates), 1),
        "raw_upsert_events_per_s": round(statistics.median(raw_rates), 1),
        "ratio": round(statistics.median(ratios), 3),
        "ratios": [round(r, 3) for r in ratios],
        **lag,
        "lag_p99_ms_runs": [r["lag_p99_ms"] for r in lags],
        "lag_state_cache_size": LAG_STATE_CACHE,
    }
