"""``resumeflow bench project``: the projector as production runs it, beside a raw upsert.

The projector is ``resumeflow projector`` in its own process, configured only through the
environment like a deployment (every consumer group, default cache, batch and partition
settings), against the servers given, which ``--spawn`` starts durable (Postgres with fsync and
synchronous commits, Redis with AOF everysec). The bench only watches from outside: a trigger it
installs on its own throwaway database's ``projection_checkpoints`` NOTIFYs every commit of a
group's checkpoint, and every feed entry up to that checkpoint became visible at that moment.

Throughput: N applications' histories (7 events each, all in flight) are appended, then the
projector starts and drains them; events/s runs from its first commit to the moment every group
holds the last entry of every partition. The raw side writes the same rows (per partition and
batch of ``batch_size`` entries: the state of each application the batch touched, its stage
timings, its archived events, a checkpoint) with asyncpg ``executemany``, one transaction per
batch, into the same tables of a fresh database: the database's cost with no Redis, no decoding,
no fold. ``ratio`` = projector / raw. The sides alternate over rounds (who goes first alternates
too); every figure is the median of the rounds and every round's figures are listed.

Lag: a producer process appends at a steady rate; an entry's lag is the time its read-model
commit was seen minus the entry id's time (Redis's clock at XADD, same machine). The first second
is warm-up. The lag run is repeated ``rounds`` times; the figures are the run with the median p99.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, cast
from uuid import UUID, uuid4

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
from pydantic_core import to_json
from redis.asyncio import Redis
from sqlalchemy import JSON

from resumeflow.bootstrap.projector import groups
from resumeflow.bootstrap.settings import Settings
from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import upgrade
from resumeflow.database.tables import applications, events, stage_timings
from resumeflow.domain.application import ApplicationState, apply, stage_of
from resumeflow.domain.events import EventEnvelope, default_codec
from resumeflow.domain.ports import AppendBatch
from resumeflow.eventstore.redis_client import create_redis
from resumeflow.eventstore.redis_streams import RedisStreamEventStore
from resumeflow.eventstore.sql import event_row
from resumeflow.projections.applications import row_from_state
from resumeflow.projections.projector import PROJECTION
from resumeflow_dev.bench.common import drop_database, fresh_database, plain_dsn
from resumeflow_dev.bench.histories import histories, interleaved

__all__ = ["bench_project"]

_WARM_UP_MS = 1000
_CHANNEL = "bench_checkpoints"
_TRIGGER = f"""
CREATE FUNCTION bench_checkpoint_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('{_CHANNEL}', NEW.name || ' ' || NEW.position); RETURN NULL; END $$;
CREATE TRIGGER bench_checkpoint_notify AFTER INSERT OR UPDATE ON projection_checkpoints
FOR EACH ROW EXECUTE FUNCTION bench_checkpoint_notify();
"""


def _ms(entry_id: str) -> int:
    return int(entry_id.split("-")[0])


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


@dataclass(eq=False)  # asyncpg keeps listeners in a set: hashed by identity
class _Watch:
    """Checkpoint commits as the bench's LISTEN connection sees them: (seen ms, name, position)."""

    commits: list[tuple[float, str, str]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        name, position = payload.rsplit(" ", 1)
        self.commits.append((time.time() * 1000, name, position))
        self.changed.set()

    def latest(self) -> dict[str, str]:
        return {name: position for _, name, position in self.commits}


class _Projector:
    """``resumeflow projector`` as a process, configured through the environment."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = os.environ | env
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "resumeflow", "projector",
                env=self.env, stdout=out, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip

    async def stop(self) -> int:
        """SIGTERM, as an orchestrator stops it; returns its exit code."""
        assert self.process is not None
        self.process.terminate()
        return await asyncio.wait_for(self.process.wait(), 30)

    def clean(self) -> bool:
        text = self.log.read_text(errors="replace")
        return "Traceback" not in text and " ERROR " not in text


class _Run:
    """One bench invocation: its servers, prefix, databases made, and the projector's config."""

    def __init__(self, postgres_url: str, redis_url: str, partitions: int | None, tmp: Path):
        self.postgres_url = postgres_url
        self.redis_url = redis_url
        self.prefix = f"bench{uuid4().hex[:8]}"
        self.redis: Redis = create_redis(redis_url)
        self.made: list[str] = []
        self.tmp = tmp
        base = Settings(redis_url=redis_url)
        self.partitions = partitions or base.log.stream_partitions
        self.batch_size = base.projections.batch_size
        self.cache_size = base.projections.state_cache_size
        self.runs = 0
        self.clean_stops: list[bool] = []

    async def database(self, *, watched: bool) -> str:
        url = await fresh_database(self.postgres_url)
        self.made.append(url)
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()
        if watched:
            conn = await asyncpg.connect(plain_dsn(url))
            try:
                await conn.execute(_TRIGGER)
            finally:
                await conn.close()
        return url

    def store(self, prefix: str) -> RedisStreamEventStore:
        return RedisStreamEventStore(self.redis, partitions=self.partitions, prefix=prefix)

    def projector(self, database_url: str, prefix: str) -> _Projector:
        self.runs += 1
        env = {
            "RESUMEFLOW_DATABASE_URL": database_url,
            "RESUMEFLOW_REDIS_URL": self.redis_url,
            "RESUMEFLOW_STREAM_PREFIX": prefix,
            "RESUMEFLOW_STREAM_PARTITIONS": str(self.partitions),
            "RESUMEFLOW_CONSUMER_NAME": "bench-0",
        }
        return _Projector(env, self.tmp / f"projector-{self.runs}.log")

    async def stopped(self, projector: _Projector) -> None:
        code = await projector.stop()
        self.clean_stops.append(code == 0 and projector.clean())

    async def settle(self) -> None:
        """Drop the throughput rounds' databases and write their pages out (a CHECKPOINT), so
        neither autovacuum nor the checkpointer works on them during the lag runs."""
        for url in self.made:
            await drop_database(url)
        self.made.clear()
        conn = await asyncpg.connect(plain_dsn(self.postgres_url))
        try:
            await conn.execute("CHECKPOINT")
        except asyncpg.InsufficientPrivilegeError:
            pass  # a server of someone else's: the settling sleep has to do
        finally:
            await conn.close()
        await asyncio.sleep(2.0)

    async def close(self) -> None:
        async for key in self.redis.scan_iter(match=f"{self.prefix}*"):
            await self.redis.delete(key)
        await self.redis.aclose()
        for url in self.made:
            await drop_database(url)


async def _listen(url: str, watch: _Watch) -> Any:
    conn = await asyncpg.connect(plain_dsn(url))
    await conn.add_listener(_CHANNEL, watch)
    return conn


async def _ends(redis: Redis, streams: Sequence[str]) -> dict[str, str]:
    ends = {}
    for stream in streams:
        last = cast(list[tuple[bytes, Any]], await redis.xrevrange(stream, count=1))
        if last:
            ends[stream] = last[0][0].decode()
    return ends


async def _projector_side(run: _Run, feed: Sequence[EventEnvelope], round_: int) -> float:
    url = await run.database(watched=True)
    prefix = f"{run.prefix}t{round_}"
    store = run.store(prefix)
    for start in range(0, len(feed), 1000):
        chunk = feed[start : start + 1000]
        await store.append_many([AppendBatch(e.application_id, [e], e.version - 1) for e in chunk])
    ends = await _ends(run.redis, store.feed_keys)
    names = [f"{g.name}@{s}" for g in groups(Settings()) for s in ends]
    watch = _Watch()
    listener = await _listen(url, watch)
    projector = run.projector(url, prefix)
    try:
        await projector.start()
        deadline = time.monotonic() + 600
        while True:
            latest = watch.latest()
            if all(latest.get(n) == ends[n.split("@", 1)[1]] for n in names):
                break
            if time.monotonic() > deadline:
                raise TimeoutError("the projector did not drain the feed in 600 s")
            watch.changed.clear()
            await asyncio.wait_for(watch.changed.wait(), 600)
    finally:
        await run.stopped(projector)
        await listener.close()
    elapsed_ms = watch.commits[-1][0] - watch.commits[0][0]
    return len(feed) / (elapsed_ms / 1000)


def _raw_batches(
    feed: Sequence[EventEnvelope], batch_size: int, partitions: int
) -> list[dict[str, list[tuple[Any, ...]]]]:
    """The rows the projector writes, per feed partition and batch of ``batch_size`` entries."""
    streams: dict[int, list[EventEnvelope]] = {}
    for event in feed:
        partition = zlib.crc32(event.application_id.bytes) % partitions  # as the store places it
        streams.setdefault(partition, []).append(event)
    codec = default_codec()
    states: dict[UUID, ApplicationState] = {}
    batches = []
    for partition, stream in streams.items():
        for start in range(0, len(stream), batch_size):
            touched: dict[UUID, ApplicationState] = {}
            timings: dict[tuple[UUID, str], tuple[Any, ...]] = {}
            archive = []
            for event in stream[start : start + batch_size]:
                before = states.get(event.application_id)
                state = apply(before, event)
                states[event.application_id] = touched[event.application_id] = state
                stage = stage_of(type(event.payload))
                if before is not None and stage is not None:
                    took = (event.occurred_at - before.updated_at).total_seconds() * 1000
                    timings[(event.application_id, stage.value)] = (
                        event.application_id, stage.value, before.updated_at, event.occurred_at,
                        took,
                    )  # fmt: skip
                archive.append(_record(event_row(event, codec), _ARCHIVE_COLUMNS))
            batches.append(
                {
                    "applications": [
                        _record(row_from_state(s), _APPLICATION_COLUMNS) for s in touched.values()
                    ],
                    "stage_timings": list(timings.values()),
                    "events": archive,
                    "checkpoint": [(f"raw@{partition}", f"{start}-0")],
                }
            )
    return batches


_APPLICATION_COLUMNS = [c.name for c in applications.columns]
_ARCHIVE_COLUMNS = [c.name for c in events.columns if c.name != "position"]
_TIMING_COLUMNS = [c.name for c in stage_timings.columns]
_JSON = {c.name for t in (applications, events) for c in t.columns if isinstance(c.type, JSON)}


def _record(row: dict[str, Any], columns: Sequence[str]) -> tuple[Any, ...]:
    """``row`` as asyncpg takes it: a tuple in column order, JSON as text."""
    return tuple(
        to_json(row[c]).decode() if c in _JSON and row[c] is not None else row[c] for c in columns
    )


def _insert(table: Any, columns: Sequence[str], conflict: str) -> str:
    values = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
    return (  # names from our metadata; every value is a bound parameter
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({values}) {conflict}"
    )


async def _raw_side(run: _Run, batches: Sequence[dict[str, list[tuple[Any, ...]]]]) -> float:
    url = await run.database(watched=False)
    updates = ", ".join(f"{c} = excluded.{c}" for c in _APPLICATION_COLUMNS if c != "id")
    sql = {
        "applications": _insert(
            applications, _APPLICATION_COLUMNS,
            f"ON CONFLICT (id) DO UPDATE SET {updates} "
            "WHERE applications.version < excluded.version",
        ),
        "stage_timings": _insert(
            stage_timings, _TIMING_COLUMNS,
            "ON CONFLICT (application_id, stage) DO UPDATE SET started_at = excluded.started_at, "
            "finished_at = excluded.finished_at, duration_ms = excluded.duration_ms "
            "WHERE stage_timings.finished_at < excluded.finished_at",
        ),
        "events": _insert(events, _ARCHIVE_COLUMNS, "ON CONFLICT DO NOTHING"),
        "checkpoint": "INSERT INTO projection_checkpoints (name, position, updated_at) "
        "VALUES ($1, $2, now()) ON CONFLICT (name) DO UPDATE SET position = excluded.position, "
        "updated_at = excluded.updated_at",
    }  # fmt: skip
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        started = time.perf_counter()
        for batch in batches:
            async with conn.transaction():
                for table, records in batch.items():
                    if records:
                        await conn.executemany(sql[table], records)
        elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    return sum(len(b["events"]) for b in batches) / elapsed


async def _lag_run(run: _Run, rate: int, seconds: float, round_: int) -> dict[str, float]:
    url = await run.database(watched=True)
    prefix = f"{run.prefix}l{round_}"
    store = run.store(prefix)
    watch = _Watch()
    listener = await _listen(url, watch)
    projector = run.projector(url, prefix)
    try:
        await projector.start()
        await asyncio.sleep(3.0)  # imports and connections: a started replica, not a starting one
        producer = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "resumeflow_dev.bench.producer", run.redis_url, prefix,
            str(run.partitions), str(rate), str(seconds),
        )  # fmt: skip
        if await producer.wait():
            raise RuntimeError(f"the producer failed with exit code {producer.returncode}")
        ends = await _ends(run.redis, store.feed_keys)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            latest = watch.latest()
            if all(latest.get(f"{PROJECTION}@{s}") == end for s, end in ends.items()):
                break
            await asyncio.sleep(0.1)
    finally:
        await run.stopped(projector)
        await listener.close()
    lags, first = [], None
    for stream in store.feed_keys:
        entries = cast(list[tuple[bytes, Any]], await run.redis.xrange(stream))
        ids = [entry_id.decode() for entry_id, _ in entries]
        cursor = 0
        for seen, name, position in watch.commits:
            if name != f"{PROJECTION}@{stream}":
                continue
            first = seen if first is None else min(first, seen)
            while cursor < len(ids) and _id_key(ids[cursor]) <= _id_key(position):
                lags.append((seen, seen - _ms(ids[cursor])))
                cursor += 1
    if not lags or first is None:
        raise RuntimeError("the projector applied nothing during the lag run")
    # a run that applied everything within the warm-up (a short run on a busy machine) is
    # reported whole rather than not at all
    steady = sorted(lag for seen, lag in lags if seen - first > _WARM_UP_MS) or sorted(
        lag for _, lag in lags
    )
    span = (max(s for s, _ in lags) - first) / 1000
    return {
        "lag_p50_ms": round(statistics.median(steady), 2),
        "lag_p99_ms": round(steady[max(int(len(steady) * 0.99) - 1, 0)], 2),
        "lag_max_ms": round(steady[-1], 2),
        "lag_events": len(steady),
        "lag_rate_events_per_s": round(len(lags) / span, 1) if span else 0.0,
    }


async def _durability(run: _Run) -> dict[str, Any]:
    conn = await asyncpg.connect(plain_dsn(run.postgres_url))
    try:
        pg = {k: await conn.fetchval(f"SHOW {k}") for k in
              ("fsync", "synchronous_commit", "full_page_writes")}  # fmt: skip
    finally:
        await conn.close()
    redis = {}
    for key in ("appendonly", "appendfsync"):
        reply = await run.redis.config_get(key)
        value = reply.get(key.encode(), reply.get(key))  # type: ignore[call-overload]
        redis[key] = value.decode() if isinstance(value, bytes) else value
    return {"postgres": pg, "redis": redis}


async def bench_project(
    postgres_url: str,
    redis_url: str,
    *,
    applications_count: int = 5000,
    partitions: int | None = None,
    rate: int = 2000,
    lag_seconds: float = 10.0,
    rounds: int = 3,
) -> dict[str, Any]:
    with TemporaryDirectory(prefix="rf-bench-project-") as tmp:
        run = _Run(postgres_url, redis_url, partitions, Path(tmp))
        try:
            return await _bench(run, applications_count, rate, lag_seconds, rounds)
        finally:
            await run.close()


async def _bench(
    run: _Run, applications_count: int, rate: int, lag_seconds: float, rounds: int
) -> dict[str, Any]:
    feed = interleaved(histories(applications_count), width=applications_count)
    batches = _raw_batches(feed, run.batch_size, run.partitions)
    projector_rates, raw_rates = [], []
    for round_ in range(rounds):
        if round_ % 2:
            raw_rates.append(await _raw_side(run, batches))
            projector_rates.append(await _projector_side(run, feed, round_))
        else:
            projector_rates.append(await _projector_side(run, feed, round_))
            raw_rates.append(await _raw_side(run, batches))
    ratios = [p / r for p, r in zip(projector_rates, raw_rates, strict=True)]
    await run.settle()  # the lag is measured when nothing else runs: not a vacuum, nor a flush
    lags = [await _lag_run(run, rate, lag_seconds, n) for n in range(rounds)]
    median_p99 = statistics.median(r["lag_p99_ms"] for r in lags)
    lag = min(lags, key=lambda r: abs(r["lag_p99_ms"] - median_p99))
    return {
        "events": len(feed),
        "rounds": rounds,
        "projector_events_per_s": round(statistics.median(projector_rates), 1),
        "raw_upsert_events_per_s": round(statistics.median(raw_rates), 1),
        "ratio": round(statistics.median(ratios), 3),
        "ratios": [round(r, 3) for r in ratios],
        "projector_events_per_s_rounds": [round(r, 1) for r in projector_rates],
        "raw_upsert_events_per_s_rounds": [round(r, 1) for r in raw_rates],
        **lag,
        "lag_p99_ms_runs": [r["lag_p99_ms"] for r in lags],
        "lag_p50_ms_runs": [r["lag_p50_ms"] for r in lags],
        "clean_shutdowns": all(run.clean_stops),
        "load_average": os.getloadavg()[0],
        "config": {
            "groups": {
                g.name: [t.name for p in g.projections for t in p.tables]
                for g in groups(Settings())
            },
            "partitions": run.partitions,
            "batch_size": run.batch_size,
            "state_cache_size": run.cache_size,
            "durability": await _durability(run),
        },
    }
