"""The read model docs/architecture.md shows as the example of adding one works as shown."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import upgrade
from resumeflow.eventstore.sql import SqlEventStore
from resumeflow.projections.catalog import read_models
from resumeflow.projections.inline import InlineProjections
from tests.conftest import REPO_ROOT
from tests.factories import happy_history

pytestmark = pytest.mark.integration


def _example() -> dict[str, Any]:
    text = (REPO_ROOT / "docs" / "architecture.md").read_text()
    section = text.split("### Adding a read model", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)
    return namespace


async def test_the_example_read_model_follows_every_append(tmp_path: Path) -> None:
    example = _example()
    table = example["latest_events"]
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'example.db'}")
    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.run_sync(table.metadata.create_all)
        projections = [*read_models(), example["LatestEventProjection"]()]
        store = SqlEventStore(engine, inline=InlineProjections(projections))
        first, second = happy_history(stages=6), happy_history(stages=2)
        for history in (first, second):
            app = history[0].application_id
            for event in history:
                await store.append(app, [event], expected_version=event.version - 1)
        async with engine.connect() as conn:
            rows = (await conn.execute(select(table))).mappings().all()
        got = {(r["application_id"], r["type"], r["version"]) for r in rows}
        assert got == {
            (first[0].application_id, "application.completed", 7),
            (second[0].application_id, "application.text_extracted", 3),
        }
    finally:
        await engine.dispose()
