"""``resumeflow bench rebuild``: how long a rebuild of the read models takes for a log of N events.

The archive of a fresh database is filled with N complete application histories (7 events each,
written by the SQL event store, untimed); then ``projections.rebuild.rebuild``
folds them into fresh tables, builds their indexes and swaps them in, as
``resumeflow projections rebuild`` does. Reports the rebuild's seconds and events per second, so
an operator can estimate the time of a rebuild from the size of the ``events`` table.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import upgrade
from resumeflow.database.tables import applications
from resumeflow.domain.ports import AppendBatch
from resumeflow.eventstore.sql import SqlEventStore
from resumeflow.projections.catalog import read_models
from resumeflow.projections.rebuild import rebuild
from resumeflow_dev.bench.common import drop_database, fresh_database
from resumeflow_dev.bench.histories import histories

__all__ = ["bench_rebuild"]

_CHUNK = 1000  # applications per archive transaction while filling


async def bench_rebuild(postgres_url: str, *, applications_count: int = 100_000) -> dict[str, Any]:
    url = await fresh_database(postgres_url)
    engine = create_engine(url)
    try:
        await upgrade(engine)
        archive = SqlEventStore(engine)  # the log alone: the read models are the rebuild's work
        for start in range(0, applications_count, _CHUNK):
            stories = histories(min(_CHUNK, applications_count - start))
            await archive.append_many([AppendBatch(s[0].application_id, s, 0) for s in stories])
        report = await rebuild(engine, read_models())
        async with engine.connect() as conn:
            rows = (await conn.execute(select(func.count()).select_from(applications))).scalar()
    finally:
        await engine.dispose()
        await drop_database(url)
    return {
        "applications": applications_count,
        "events": report.events,
        "rows": rows,
        "seconds": round(report.seconds, 2),
        "events_per_s": round(report.events / report.seconds, 1),
    }
