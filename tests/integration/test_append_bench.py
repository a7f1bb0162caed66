"""The append benchmark runs end to end (tiny numbers; no timing is asserted)."""

from __future__ import annotations

import json

import pytest
from redis.asyncio import Redis
from typer.testing import CliRunner

from resumeflow_dev.bench.append import run_append_bench
from resumeflow_dev.bench.cli import bench_app
from tests.servers import RedisServer

pytestmark = pytest.mark.integration

RATES = ("single_rate", "raw_single_rate", "batch_rate", "raw_batch_rate")


async def test_the_bench_reports_positive_rates_and_cleans_up(
    redis_server: RedisServer, redis: Redis
) -> None:
    result = await run_append_bench(
        redis_server.url, events=40, batch_size=10, concurrency=3, rounds=2
    )
    assert set(result) >= {*RATES, "ratio_single", "ratio_batch"}
    assert all(result[k] > 0 for k in (*RATES, "ratio_single", "ratio_batch"))
    assert result["events"] == 40 and result["batch_size"] == 10
    assert [k async for k in redis.scan_iter(match="rfbench:*")] == []


def test_the_cli_prints_one_json_object(redis_server: RedisServer) -> None:
    args = ["append", "--redis-url", redis_server.url, "--events", "20", "--batch-size", "10"]
    result = CliRunner().invoke(bench_app, [*args, "--concurrency", "2", "--rounds", "1", "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["ratio_single"] > 0 and record["ratio_batch"] > 0


def test_the_cli_prints_a_table(redis_server: RedisServer) -> None:
    args = ["append", "--redis-url", redis_server.url, "--events", "10", "--rounds", "1"]
    result = CliRunner().invoke(bench_app, args)
    assert result.exit_code == 0, result.output
    assert "raw XADD" in result.stdout and "single" in result.stdout
