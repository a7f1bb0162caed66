"""A rebuild from the log equals the live read models row for row, and swaps in cleanly, on
Postgres (from the archive the projector fills) and on SQLite (the embedded mode's own log)."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from redis.asyncio import Redis
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.bootstrap.settings import Settings
from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import upgrade
from resumeflow.database.tables import metadata, stage_timings
from resumeflow.domain.events import Stage
from resumeflow.eventstore.sql import SqlEventStore
from resumeflow.projections.catalog import read_models
from resumeflow.projections.inline import InlineProjections
from resumeflow.projections.rebuild import rebuild
from tests.factories import envelope, failure_payloads, happy_history, received_payload
from tests.integration.projections.helpers import (
    append_histories,
    caught_up,
    live_rows,
    running,
    store_of,
    wait_for,
)
from tests.integration.projections.reference import reference_rows, reference_timings

pytestmark = pytest.mark.integration


async def _same_schema(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    assert diff == []  # the swapped-in tables carry the canonical names of every index


async def test_a_rebuild_equals_the_live_projection_row_for_row(
    engine: AsyncEngine, redis: Redis, settings: Settings
) -> None:
    store = store_of(redis, settings)
    histories = await append_histories(store, 150, stages=4)
    histories |= await append_histories(store, 150)
    total = sum(len(h) for h in histories.values())
    async with running(settings):
        await wait_for(lambda: caught_up(engine, histories))
    live = await live_rows(engine)
    live_timings = await live_rows(engine, stage_timings)
    seen: list[tuple[int, int]] = []
    report = await rebuild(
        engine, read_models(), progress=lambda done, of: seen.append((done, of)), chunk=100
    )
    assert report.events == total and report.applications == 300 and report.skipped_events == 0
    assert seen[-1] == (total, total) and len(seen) > 1
    assert await live_rows(engine) == live == reference_rows(histories)
    assert await live_rows(engine, stage_timings) == live_timings
    await _same_schema(engine)


async def test_the_embedded_log_rebuilds_too_keeping_a_broken_history_prefix(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'embedded.db'}")
    try:
        await upgrade(engine)
        store = SqlEventStore(engine, inline=InlineProjections(read_models()))
        histories = {h[0].application_id: h for h in (happy_history() for _ in range(40))}
        failed = uuid4()
        histories[failed] = [
            envelope(failed, n, p)
            for n, p in enumerate([received_payload(), *failure_payloads(Stage.STORE)], start=1)
        ]
        for app, history in histories.items():
            await store.append(app, history, expected_version=0)
        # A poison event only a bug could write: the log keeps it, the fold cannot take it.
        broken = uuid4()
        good = happy_history(broken, stages=2)
        bad = envelope(broken, 4, received_payload())
        plain = SqlEventStore(engine)  # no read models: as a faulty writer would have done
        await plain.append(broken, [*good, bad], expected_version=0)
        report = await rebuild(engine, read_models(), chunk=7)
        assert (report.applications, report.skipped_events) == (42, 1)
        want = reference_rows(histories | {broken: good})
        assert await live_rows(engine) == want
        want_timings = reference_timings([*histories.values(), good])
        assert await live_rows(engine, stage_timings) == want_timings
        async with engine.connect() as conn:
            indexes = await conn.run_sync(
                lambda sync: {i["name"] for i in inspect(sync).get_indexes("applications")}
            )
        assert indexes == {str(i.name) for i in metadata.tables["applications"].indexes}
    finally:
        await engine.dispose()
