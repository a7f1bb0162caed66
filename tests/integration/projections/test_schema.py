"""The schema: migrations walk up, down and up; they match the metadata; indexes serve queries."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Select, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import alembic_config, downgrade, upgrade
from resumeflow.database.tables import metadata
from resumeflow.projections import queries
from resumeflow_dev.bench.rows import SeedPlan, copy_rows, seed_shapes
from tests.servers import PostgresServer

pytestmark = pytest.mark.integration


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_every_revision_walks_up_down_and_up_again(pg_url: str) -> None:
    """The stairway: each revision's downgrade undoes exactly its upgrade."""
    revisions = list(ScriptDirectory.from_config(alembic_config()).walk_revisions("base", "heads"))
    assert [r.revision for r in reversed(revisions)] == ["0001", "0002", "0003", "0004"]
    engine = create_engine(pg_url)
    try:
        for revision in reversed(revisions):
            await upgrade(engine, revision.revision)
            await downgrade(engine, revision.down_revision or "base")  # type: ignore[arg-type]
            await upgrade(engine, revision.revision)
        assert {"applications", "events", "dead_letters", "stage_timings"} <= await _tables(engine)
        await downgrade(engine, "base")
        assert await _tables(engine) == {"alembic_version"}
    finally:
        await engine.dispose()


async def test_the_migrated_schema_equals_the_metadata(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    assert diff == []


async def _plan(engine: AsyncEngine, statement: Select[Any]) -> str:
    sql = statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    async with engine.connect() as conn:
        rows = (await conn.execute(text(f"EXPLAIN {sql}"))).all()
    return "\n".join(row[0] for row in rows)


async def test_at_100k_rows_every_seed_query_shape_uses_an_index(
    engine: AsyncEngine, pg_server: PostgresServer, pg_url: str
) -> None:
    plan = SeedPlan(rows=100_000, job_posts=100)
    await copy_rows(pg_url.replace("postgresql+asyncpg", "postgresql"), plan)
    shapes = seed_shapes(plan)
    assert set(shapes) == {
        "by_status", "by_job_post_and_status", "by_email",
        "created_between", "updated_between", "ranking",
    }  # fmt: skip
    for name, shape in shapes.items():
        async with engine.connect() as conn:
            first = await queries.fetch_page(conn, shape, limit=20)
        for after in (None, first.next_cursor):
            explained = await _plan(engine, queries.statement(shape, after=after, limit=20))
            assert "Seq Scan" not in explained, f"{name}:\n{explained}"
            assert "using ix_applications_" in explained or "on ix_applications_" in explained, (
                f"{name}:\n{explained}"
            )


async def test_keyset_pages_cover_every_row_once(engine: AsyncEngine, pg_url: str) -> None:
    plan = SeedPlan(rows=3_000, job_posts=3)
    await copy_rows(pg_url.replace("postgresql+asyncpg", "postgresql"), plan)
    shape = queries.by_job_post_and_status(plan.job_post_id(0), "completed")
    seen: list[Any] = []
    after = None
    async with engine.connect() as conn:
        while True:
            page = await queries.fetch_page(conn, shape, after=after, limit=37)
            seen += [item.id for item in page.items]
            if page.next_cursor is None:
                break
            after = page.next_cursor
        total = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM applications"
                    " WHERE job_post_id = :p AND status = 'completed'"
                ),
                {"p": plan.job_post_id(0)},
            )
        ).scalar_one()
    assert len(seen) == len(set(seen)) == total > 37
