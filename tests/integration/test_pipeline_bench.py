"""The pipeline benchmark runs end to end in a small configuration: its own servers, the fake
cloud, real worker and projector processes; no timing asserted, only that every application
ended, was projected, and every figure is reported."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from resumeflow_dev.bench.cli import bench_app

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

FIGURES = (
    "apps_per_s",
    "ideal_apps_per_s",
    "ratio_to_ideal",
    "cpu_ms_per_application",
    "peak_rss_mb",
    "latency_p50_s",
    "latency_p95_s",
    "text_p95_mixed_s",
    "text_p95_text_only_s",
    "text_p95_latency_ratio",
    "traced_apps_per_s",
)


def test_every_application_ends_is_projected_and_the_figures_are_reported() -> None:
    sizes = ["--applications", "12", "--in-flight", "4", "--rounds", "1", "--warmup", "2"]
    mix = ["--scan-share", "0.25"]
    latencies = ["--s3-ms", "1", "--textract-polls", "2", "--textract-poll-ms", "20"]
    latencies += ["--gemini-ms", "30", "--embedding-ms", "10"]
    result = CliRunner().invoke(bench_app, ["pipeline", *sizes, *mix, *latencies, "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)

    # mixed, text-only and traced runs of 12; two warm-ups (untraced and traced workers)
    assert record["measured"] == 36 and record["submitted"] == 40
    assert record["completed"] == 36 and record["failed"] == 0
    assert record["projected_terminal"] == 40
    assert all(record[k] > 0 for k in FIGURES), record
    assert isinstance(record["tracing_overhead"], float)
    assert len(record["peak_rss_mb_by_worker"]) == 2
    assert "speedup_vs_sync" not in record
    # 9 text documents wait for 4 S3 calls, the parse and the embedding (0.044 s); 3 scans for
    # two polls of 20 ms more (0.084 s)
    assert record["ideal_latency_s"] == pytest.approx((9 * 0.044 + 3 * 0.084) / 12, abs=1e-4)
    assert record["stage_seconds"]["text_extracted"] > 0
