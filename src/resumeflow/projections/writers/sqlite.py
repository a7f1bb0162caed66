"""The SQLite writer (the embedded mode, and rebuilds there): SQLAlchemy Core upserts on the
caller's connection, inside the caller's transaction (the append's, or the rebuild's)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Table, select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from resumeflow.database.tables import projection_checkpoints
from resumeflow.projections.model import Json, Row, Upsert
from resumeflow.projections.writers import Checkpoint, winners

__all__ = ["SqliteWriter"]


def _decoded(row: Row, documents: Sequence[str]) -> dict[str, Any]:
    out = dict(row)
    for name in documents:
        if isinstance(out.get(name), Json):
            out[name] = json.loads(out[name])
    return out


class SqliteWriter:
    def __init__(self, conn: AsyncConnection, targets: Mapping[str, Table] | None = None) -> None:
        self._conn = conn
        self._targets = dict(targets or {})

    def _target(self, table: Table) -> Table:
        return self._targets.get(table.name, table)

    async def rows(self, table: Table, keys: Sequence[Any]) -> list[Row]:
        target = self._target(table)
        [key] = target.primary_key.columns
        result = await self._conn.execute(select(target).where(key.in_(list(keys))))
        times = [c.name for c in target.columns if isinstance(c.type, DateTime)]
        rows: list[Row] = []
        for row in result.mappings():
            values = dict(row)
            for name in times:  # SQLite keeps no offset; every stored time is UTC
                if isinstance(values[name], datetime) and values[name].tzinfo is None:
                    values[name] = values[name].replace(tzinfo=UTC)
            rows.append(values)
        return rows

    async def write(
        self, upserts: Sequence[Upsert], checkpoints: Sequence[Checkpoint] = ()
    ) -> None:
        for upsert in upserts:
            if not upsert.rows:
                continue
            target = self._target(upsert.table)
            statement = insert(target)
            if upsert.guard is None:
                statement = statement.on_conflict_do_nothing()
            else:
                key = [c.name for c in target.primary_key.columns]
                statement = statement.on_conflict_do_update(
                    index_elements=key,
                    set_={n: statement.excluded[n] for n in upsert.rows[0] if n not in key},
                    where=target.c[upsert.guard] < statement.excluded[upsert.guard],
                )
            documents = [c.name for c in target.columns if isinstance(c.type, JSON)]
            rows = winners(upsert)
            if any(isinstance(row.get(n), Json) for row in rows for n in documents):
                rows = [_decoded(row, documents) for row in rows]  # the column type encodes
            await self._conn.execute(statement, rows)
        if checkpoints:
            now = datetime.now(UTC)
            latest = dict(checkpoints)
            statement = insert(projection_checkpoints)
            statement = statement.on_conflict_do_update(
                index_elements=["name"],
                set_={"position": statement.excluded.position, "updated_at": now},
            )
            await self._conn.execute(
                statement,
                [{"name": n, "position": p, "updated_at": now} for n, p in latest.items()],
            )
