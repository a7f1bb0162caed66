"""The embedded mode runs the same query code on SQLite: filters, order and keyset paging."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import upgrade
from resumeflow.database.tables import applications
from resumeflow.projections import queries

pytestmark = pytest.mark.integration

POST = uuid4()
START = datetime(2026, 3, 1, tzinfo=UTC)


def _row(n: int) -> dict[str, Any]:
    moment = START + timedelta(hours=n // 2)  # pairs share a created_at: ties need the id
    return {
        "id": uuid4(), "job_post_id": POST, "email": f"a{n % 7}@example.org", "name": f"A{n}",
        "status": "completed" if n % 3 else "failed", "filename": "r.pdf", "format": "pdf",
        "size_bytes": 1, "sha256": "0" * 64, "inbox_key": "k", "score": float(n % 10),
        "correlation_id": uuid4(), "version": 7, "created_at": moment,
        "updated_at": moment + timedelta(minutes=n),
    }  # fmt: skip


async def _pages(
    conn: AsyncConnection, shape: queries.QueryShape, limit: int
) -> list[queries.ApplicationSummary]:
    items: list[queries.ApplicationSummary] = []
    after = None
    while True:
        page = await queries.fetch_page(conn, shape, after=after, limit=limit)
        items += page.items
        if page.next_cursor is None:
            return items
        after = page.next_cursor


async def test_every_shape_pages_through_its_rows_in_order_on_sqlite(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'q.db'}")
    await upgrade(engine)
    rows = [_row(n) for n in range(60)]
    async with engine.begin() as conn:
        await conn.execute(applications.insert(), rows)
    end = START + timedelta(hours=10)
    shapes: dict[str, tuple[queries.QueryShape, Callable[[dict[str, Any]], bool]]] = {
        "status": (queries.by_status("failed"), lambda r: r["status"] == "failed"),
        "post+status": (queries.by_job_post_and_status(POST, "completed"),
                        lambda r: r["status"] == "completed"),
        "email": (queries.by_email("a3@example.org"), lambda r: r["email"] == "a3@example.org"),
        "created": (queries.created_between(START, end), lambda r: r["created_at"] < end),
        "updated": (queries.updated_between(START, end), lambda r: r["updated_at"] < end),
        "ranking": (queries.ranking(POST), lambda r: True),
    }  # fmt: skip
    async with engine.connect() as conn:
        for name, (shape, keep) in shapes.items():
            got = await _pages(conn, shape, limit=4)
            want = [r for r in rows if keep(r)]
            key = (
                "score"
                if name == "ranking"
                else "updated_at"
                if name == "updated"
                else "created_at"
            )
            want.sort(key=lambda r: (r[key], r["id"]), reverse=name == "ranking")
            assert [item.id for item in got] == [r["id"] for r in want], name
    await engine.dispose()
