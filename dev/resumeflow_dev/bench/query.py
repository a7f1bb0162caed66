"""``resumeflow bench query``: each seed query shape at 1,000,000 applications, with and without
the performance indexes.

The database is migrated to revision 0001 (tables, no secondary indexes), loaded with COPY,
measured, then migrated to 0002 (the indexes) and measured again: the comparison is exactly what
the index migration buys. Each shape runs ``runs`` times with varying parameters, through the
same ``streams.queries`` code the API uses, half of the runs on a second page (keyset cursor),
after three untimed warm-up rounds (both sides get them).
``speedup`` per shape is p50 without over p50 with; ``min_speedup`` is the smallest.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import upgrade
from resumeflow.projections import queries
from resumeflow.projections.queries import QueryShape
from resumeflow_dev.bench.common import drop_database, fresh_database, plain_dsn
from resumeflow_dev.bench.rows import SeedPlan, copy_rows, seed_shapes

__all__ = ["bench_query"]


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def _measure(url: str, plan: SeedPlan, runs: int) -> dict[str, list[float]]:
    engine = create_engine(url, pool_size=1)
    timings: dict[str, list[float]] = {}
    try:
        async with engine.connect() as conn:
            for variant in range(-3, 0):  # warm-up: statement cache, connection, index roots
                for shape in seed_shapes(plan, variant).values():
                    await queries.fetch_page(conn, shape, limit=50)
            for variant in range(runs):
                shapes: dict[str, QueryShape] = seed_shapes(plan, variant)
                for name, shape in shapes.items():
                    after = None
                    if variant % 2:
                        after = (await queries.fetch_page(conn, shape, limit=50)).next_cursor
                    started = time.perf_counter()
                    await queries.fetch_page(conn, shape, after=after, limit=50)
                    timings.setdefault(name, []).append((time.perf_counter() - started) * 1000)
    finally:
        await engine.dispose()
    return timings


async def bench_query(
    postgres_url: str, *, rows: int = 1_000_000, runs: int = 20, runs_without: int = 10
) -> dict[str, Any]:
    url = await fresh_database(postgres_url)
    try:
        return await _bench(url, rows, runs, runs_without)
    finally:
        await drop_database(url)


async def _bench(url: str, rows: int, runs: int, runs_without: int) -> dict[str, Any]:
    plan = SeedPlan(rows=rows)
    engine = create_engine(url)
    await upgrade(engine, "0001")
    started = time.perf_counter()
    await copy_rows(plain_dsn(url), plan)
    load_seconds = time.perf_counter() - started
    without = await _measure(url, plan, runs_without)
    started = time.perf_counter()
    await upgrade(engine, "0002")
    index_seconds = time.perf_counter() - started
    async with engine.begin() as conn:
        await conn.exec_driver_sql("ANALYZE applications")
    await engine.dispose()
    with_indexes = await _measure(url, plan, runs)
    shapes: dict[str, Any] = {}
    for name, samples in with_indexes.items():
        slow = without[name]
        shapes[name] = {
            "p50_ms": round(statistics.median(samples), 3),
            "p95_ms": round(_percentile(samples, 0.95), 3),
            "p50_ms_without_indexes": round(statistics.median(slow), 2),
            "p95_ms_without_indexes": round(_percentile(slow, 0.95), 2),
            "speedup": round(statistics.median(slow) / statistics.median(samples), 1),
        }
    return {
        "rows": rows,
        "runs": runs,
        "runs_without_indexes": runs_without,
        "load_seconds": round(load_seconds, 1),
        "index_build_seconds": round(index_seconds, 1),
        "shapes": shapes,
        "p95_ms": {name: shape["p95_ms"] for name, shape in shapes.items()},
        "min_speedup": min(shape["speedup"] for shape in shapes.values()),
    }
