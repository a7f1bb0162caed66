"""The projector's runtime as ``resumeflow projector`` builds it: its groups and subscribers.

Nothing connects while the runtime is built, so no server is needed.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from resumeflow.bootstrap.projector import projector_runtime
from resumeflow.bootstrap.settings import LogSettings, Settings
from resumeflow.database.engine import create_engine
from resumeflow.eventstore.redis_client import create_redis
from resumeflow.projections.archive import ArchiveProjection
from resumeflow.projections.projector import FetchErrors, Group, GroupProjector


async def test_each_group_reads_every_partition_with_a_reader_and_a_claimer() -> None:
    settings = Settings(
        database_url="postgresql+asyncpg://nobody@127.0.0.1:9/none",
        redis_url="redis://127.0.0.1:9/0",
        log=LogSettings(stream_prefix="rfx", stream_partitions=3),
    )
    async with projector_runtime(settings) as runtime:
        broker = runtime.app.broker
        assert broker is not None
        subscribers: list[Any] = list(broker.subscribers)
        assert len(subscribers) == 3 * 2  # partitions x (reader, claimer)
        by_group: dict[str, set[str]] = {}
        for subscriber in subscribers:
            sub = subscriber.stream_sub
            by_group.setdefault(str(sub.group), set()).add(sub.name)
        assert by_group == {"projection": {"rfx:feed:0", "rfx:feed:1", "rfx:feed:2"}}
        names = {p.group.name: [x.name for x in p.group.projections] for p in runtime.projectors}
        assert names == {"projection": ["archive", "applications", "stage_timings"]}


def test_the_projector_refuses_a_database_other_than_postgres() -> None:
    engine = create_engine("sqlite+aiosqlite:///:memory:")

    async def history(*_: object, **__: object) -> list[object]:
        return []

    with pytest.raises(ValueError, match="Postgres"):
        GroupProjector(
            group=Group("projection.archive", (ArchiveProjection(),)),
            engine=engine,
            redis=create_redis("redis://127.0.0.1:9/0"),
            history=history,  # type: ignore[arg-type]  # never called
            max_deliveries=3,
        )


def test_fetch_errors_become_one_short_line_per_interval() -> None:
    """FastStream logs a traceback per subscriber every few seconds while Redis is away."""
    keep = FetchErrors(every=60)

    def record() -> logging.LogRecord:
        try:
            raise ConnectionError("Connection closed by server.")
        except ConnectionError:
            import sys

            return logging.LogRecord(
                "p", logging.ERROR, __file__, 1, "Message fetch error", None, sys.exc_info()
            )

    first, second = record(), record()
    assert keep.filter(first) is True
    assert first.levelname == "WARNING" and first.exc_info is None
    assert "ConnectionError: Connection closed by server." in first.getMessage()
    assert keep.filter(second) is False
    other = logging.LogRecord("p", logging.INFO, __file__, 1, "started", None, None)
    assert keep.filter(other) is True


def test_faststream_s_per_subscriber_lifecycle_lines_are_dropped() -> None:
    keep = FetchErrors()
    for message in ("rf:feed:0 | - `Projection` waiting for messages",
                    "callback for Task-19 is being executed..."):  # fmt: skip
        record = logging.LogRecord("p", logging.INFO, __file__, 1, message, None, None)
        assert keep.filter(record) is False
