"""A restart of Postgres under a running projector and an open engine: both go on by themselves."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.bootstrap.settings import Settings
from resumeflow.database.job_posts import SqlJobPostRepository
from resumeflow.database.tables import dead_letters
from tests.doubles import JOB
from tests.integration.projections.helpers import append_histories, caught_up, count, store_of
from tests.integration.projections.test_crash import ProjectorProcess
from tests.servers import PostgresServer

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_server() -> Iterator[PostgresServer]:
    """This test's own server: it restarts it."""
    with PostgresServer() as server:
        yield server


async def test_the_projector_and_the_engine_go_on_after_a_postgres_restart(
    engine: AsyncEngine,
    redis: Redis,
    settings: Settings,
    pg_server: PostgresServer,
    tmp_path: Path,
) -> None:
    jobs = SqlJobPostRepository(engine)
    await jobs.add(JOB)  # a pooled connection now exists
    store = store_of(redis, settings)
    histories = await append_histories(store, 300)
    projector = ProjectorProcess(settings, tmp_path / "projector.log")
    projector.start()
    try:
        for _ in range(600):  # the projector is writing
            if await count(engine) > 0:
                break
            await asyncio.sleep(0.05)

        pg_server.stop()  # fast shutdown: every connection is closed by the server
        histories |= await append_histories(store, 200)  # the log moves on meanwhile
        await asyncio.sleep(3)
        pg_server.start()

        # the first use of the engine's pool after the restart works
        found = await jobs.get(JOB.id)
        assert found is not None and (found.id, found.title) == (JOB.id, JOB.title)
        for _ in range(600):
            if await caught_up(engine, histories):
                break
            await asyncio.sleep(0.1)
        assert await caught_up(engine, histories), "the projector did not catch up"
        assert await count(engine, dead_letters) == 0  # nothing blamed on the events
    finally:
        projector.stop()
    output = projector.log.read_text()
    assert "Traceback" not in output
    assert output.count("Postgres unavailable") <= 3, output[-3000:]
    assert "Postgres is back" in output
