"""The pipeline benchmark runs end to end: real worker processes, tiny latencies, no timing
asserted. Its own redis-server, so no other test's workers can take its messages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from typer.testing import CliRunner

from resumeflow_dev.bench.cli import bench_app
from tests.servers import RedisServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FIGURES = (
    "apps_per_s",
    "ideal_apps_per_s",
    "ratio_to_ideal",
    "sync_apps_per_s",
    "speedup_vs_sync",
    "peak_rss_mb",
    "latency_p50_s",
    "latency_p95_s",
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis") as redis_server:
        yield redis_server


def test_every_application_completes_and_the_figures_are_reported(server: RedisServer) -> None:
    args = ["pipeline", "--redis-url", server.url, "--broker-url", server.url[:-1] + "1"]
    sizes = ["--applications", "24", "--in-flight", "8", "--warmup", "4", "--batch-size", "4"]
    latencies = ["--s3-ms", "1", "--textract-polls", "2", "--textract-poll-ms", "20"]
    latencies += ["--gemini-ms", "30", "--embedding-ms", "10", "--sync-applications", "2"]
    result = CliRunner().invoke(bench_app, [*args, *sizes, *latencies, "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["completed"] == 24 and record["failed"] == 0
    assert record["sync_completed"] == 2
    assert all(record[k] > 0 for k in FIGURES), record
    # the ideal follows the formula in bench/pipeline.py: 3 S3 trips, the polls, parse, and the
    # resume's embedding (the job post's is computed once and stored)
    assert record["ideal_latency_s"] == pytest.approx(0.003 + 2 * 0.02 + 0.03 + 0.01)
    assert record["stage_seconds"]["text_extracted"] >= 2 * 0.02  # both polls were waited for
    assert record["peak_rss_mb"] < 1000
    # the bench deletes what it wrote to the event log
    with Redis.from_url(server.url) as redis:
        assert list(redis.scan_iter(match="rfbench*")) == []
