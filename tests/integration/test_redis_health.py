"""The start-up durability check warns about eviction and about a server that keeps nothing."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import pytest

from resumeflow.eventstore.redis_client import create_redis
from resumeflow.eventstore.redis_health import DurabilityReport, check_durability
from tests.servers import RedisServer

pytestmark = pytest.mark.integration


async def _check(directory: Path, config: Mapping[str, str]) -> DurabilityReport:
    with RedisServer(directory, config=config) as server:
        redis = create_redis(server.url)
        try:
            return await check_durability(redis)
        finally:
            await redis.aclose()


async def test_an_evicting_server_without_disk_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = {"maxmemory": "100mb", "maxmemory-policy": "allkeys-lru"}
    with caplog.at_level(logging.WARNING, logger="resumeflow.eventstore.redis_health"):
        report = await _check(tmp_path, config)
    assert not report.ok and len(report.problems) == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("EVICT" in w and "allkeys-lru" in w for w in warnings)
    assert any("KEEPS NOTHING ON DISK" in w for w in warnings)


async def test_snapshots_only_are_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="resumeflow.eventstore.redis_health"):
        report = await _check(tmp_path, {"save": "900 1"})
    assert report.problems == tuple(
        r.getMessage().split(": ", 1)[1] for r in caplog.records if r.levelno == logging.WARNING
    )
    assert len(report.problems) == 1 and "RDB snapshots only" in report.problems[0]


async def test_aof_everysec_with_noeviction_passes_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = {"appendonly": "yes", "appendfsync": "everysec", "maxmemory-policy": "noeviction"}
    with caplog.at_level(logging.WARNING, logger="resumeflow.eventstore.redis_health"):
        report = await _check(tmp_path, config)
    assert report.ok, report.problems
    assert (report.appendonly, report.appendfsync, report.maxmemory_policy) == (
        "yes",
        "everysec",
        "noeviction",
    )
    assert report.version.startswith(("6.", "7.", "8."))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
