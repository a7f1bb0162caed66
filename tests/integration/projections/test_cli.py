"""The read side's commands: ``streams status`` and ``projections rebuild`` on real servers."""

from __future__ import annotations

import asyncio
import json
import statistics
from uuid import uuid4

import pytest
import typer
from redis.asyncio import Redis
from typer.testing import CliRunner

from resumeflow.bootstrap.settings import LogSettings, ProjectionSettings, Settings
from resumeflow.cli.app import app as resumeflow
from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import upgrade
from resumeflow.domain.ports import AppendBatch
from resumeflow.eventstore.redis_client import create_redis
from resumeflow.projections.projector import PROJECTION
from tests.factories import happy_history
from tests.integration.projections.helpers import (
    count,
    running,
    settings_env,
    store_of,
    wait_for,
)
from tests.servers import PostgresServer, RedisServer

pytestmark = pytest.mark.integration


def _app() -> typer.Typer:
    return resumeflow


async def _prepare(settings: Settings) -> None:
    """A migrated database, 20 projected applications, then 5 more appended but not projected."""
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    redis = create_redis(settings.log_redis_url)
    store = store_of(redis, settings)
    stories = [happy_history(uuid4()) for _ in range(20)]
    await store.append_many([AppendBatch(h[0].application_id, h, 0) for h in stories])
    async with running(settings):

        async def archived() -> bool:
            return await count(engine) == 20 * 7

        await wait_for(archived)
    later = [happy_history(uuid4()) for _ in range(5)]
    await store.append_many([AppendBatch(h[0].application_id, h, 0) for h in later])
    await redis.aclose()
    await engine.dispose()


def test_status_shows_lag_per_group_and_rebuild_reports_its_work(
    pg_server: PostgresServer, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"t_{uuid4().hex[:16]}"
    asyncio.run(_create_database(pg_server, name))
    settings = Settings(
        database_url=pg_server.url.rsplit("/", 1)[0] + f"/{name}",
        redis_url=redis_server.url,
        log=LogSettings(stream_prefix=f"t{uuid4().hex[:12]}", stream_partitions=2),
        projections=ProjectionSettings(consumer_name="cli-0"),
    )
    asyncio.run(_prepare(settings))
    for key, value in settings_env(settings).items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()

    status = runner.invoke(_app(), ["streams", "status", "--json"])
    assert status.exit_code == 0, status.output
    report = json.loads(status.output)
    groups = report["groups"]
    assert [(g["group"], g["stream"]) for g in groups] == [
        (PROJECTION, f"{settings.log.stream_prefix}:feed:0"),
        (PROJECTION, f"{settings.log.stream_prefix}:feed:1"),
    ]
    assert sum(g["lag"] for g in groups) == 5 * 7
    assert all(g["pending"] == 0 and g["dead_letters"] == 0 for g in groups)
    partitions = report["partitions"]
    assert sum(p["length"] for p in partitions) == 25 * 7
    assert all(p["last_trim_at_ms"] is None for p in partitions)  # nothing trimmed yet

    table = runner.invoke(_app(), ["streams", "status"])
    assert table.exit_code == 0 and "pending" in table.output

    rebuilt = runner.invoke(_app(), ["projections", "rebuild", "--json"])
    assert rebuilt.exit_code == 0, rebuilt.output
    report = json.loads(rebuilt.output.strip().splitlines()[-1])
    assert report["events"] == 20 * 7 and report["applications"] == 20


async def _create_database(server: PostgresServer, name: str) -> None:
    import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information

    conn = await asyncpg.connect(server.dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def test_bench_rebuild_rebuilds_every_application_it_archived(pg_server: PostgresServer) -> None:
    args = ["bench", "rebuild", "--postgres-url", pg_server.url, "--applications", "1500", "--json"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    # more than one archive chunk of 1,000 applications, every one folded into its row
    assert report["events"] == 1500 * 7 and report["rows"] == 1500
    assert report["events_per_s"] > 0
    assert asyncio.run(_bench_databases(pg_server)) == []  # dropped after the run


def test_bench_project_reports_every_round_and_cleans_up(
    pg_server: PostgresServer, redis_server: RedisServer
) -> None:
    args = ["bench", "project", "--postgres-url", pg_server.url, "--redis-url", redis_server.url]
    sizes = ["--applications", "60", "--rate", "400", "--seconds", "2.5", "--partitions", "2"]
    result = CliRunner().invoke(_app(), [*args, *sizes, "--rounds", "2", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["events"] == 60 * 7 and report["rounds"] == 2
    assert report["config"]["partitions"] == 2
    assert report["config"]["groups"] == {
        PROJECTION: ["events", "applications", "stage_timings"],
    }
    assert report["clean_shutdowns"] is True
    assert len(report["ratios"]) == 2 and len(report["lag_p99_ms_runs"]) == 2
    assert report["ratio"] == pytest.approx(statistics.median(report["ratios"]), abs=1e-3)
    assert report["lag_p99_ms"] in report["lag_p99_ms_runs"] and report["lag_events"] > 0
    # what the bench wrote to Redis is gone
    redis = create_redis(redis_server.url)
    assert asyncio.run(_keys(redis, "bench*")) == []
    assert asyncio.run(_bench_databases(pg_server)) == []  # and its databases are dropped


async def _keys(redis: Redis, pattern: str) -> list[bytes]:
    try:
        return [key async for key in redis.scan_iter(match=pattern)]
    finally:
        await redis.aclose()


async def _bench_databases(server: PostgresServer) -> list[str]:
    import asyncpg

    conn = await asyncpg.connect(server.dsn)
    try:
        rows = await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'rf_bench_%'")
    finally:
        await conn.close()
    return [row["datname"] for row in rows]
