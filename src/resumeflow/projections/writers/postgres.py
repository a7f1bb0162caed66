"""The Postgres writer: every change of a batch, and the checkpoints, as ONE statement.

Each upsert becomes a data-modifying CTE that inserts ``SELECT * FROM unnest($1::type[], ...)``
(one array per column) with its ``ON CONFLICT`` rule, and the checkpoints ride along in one more.
A statement is its own transaction in Postgres, so a batch's rows in every table and its
checkpoint commit together or not at all, in one round trip, whatever the number of tables and
rows (docs/adr/0006-read-side.md says why: the per-batch round trips were the projector's cost).

It works on the asyncpg connection under a SQLAlchemy one, with no transaction open there: the
statement's implicit transaction is the batch's. JSON columns travel as text serialized by
pydantic-core.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic_core import to_json
from sqlalchemy import JSON, Table
from sqlalchemy.dialects import postgresql

from resumeflow.projections.model import Json, Row, Upsert
from resumeflow.projections.writers import Checkpoint, winners

__all__ = ["PostgresWriter"]

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]  # typed as a module attribute

_CHECKPOINTS = (
    "INSERT INTO projection_checkpoints (name, position, updated_at) "
    "SELECT name, position, now() FROM unnest(${names}::text[], ${positions}::text[]) "
    "AS checkpoint(name, position) "
    "ON CONFLICT (name) DO UPDATE SET position = excluded.position, "
    "updated_at = excluded.updated_at"
)


def _sql_type(table: Table, column: str) -> str:
    return str(table.c[column].type.compile(dialect=_DIALECT))


def _json(value: Any) -> str | None:
    if value is None or isinstance(value, Json):
        return value
    return to_json(value).decode()


class PostgresWriter:
    def __init__(self, db: Any, targets: Mapping[str, Table] | None = None) -> None:
        """``db``: an asyncpg connection (asyncpg ships no type information)."""
        self._db = db
        self._targets = dict(targets or {})

    def _target(self, table: Table) -> Table:
        return self._targets.get(table.name, table)

    async def rows(self, table: Table, keys: Sequence[Any]) -> list[Row]:
        target = self._target(table)
        [key] = target.primary_key.columns
        sql = (  # names from our metadata only; the keys are a bound parameter
            f"SELECT * FROM {target.name} "  # noqa: S608
            f"WHERE {key.name} = ANY($1::{_sql_type(target, key.name)}[])"
        )
        documents = [c.name for c in target.columns if isinstance(c.type, JSON)]
        rows: list[Row] = []
        for record in await self._db.fetch(sql, list(keys)):
            row = dict(record)
            for name in documents:  # asyncpg hands JSON over as text
                if isinstance(row[name], str):
                    row[name] = json.loads(row[name])
            rows.append(row)
        return rows

    async def write(
        self, upserts: Sequence[Upsert], checkpoints: Sequence[Checkpoint] = ()
    ) -> None:
        parts: list[str] = []
        args: list[Any] = []
        for upsert in upserts:
            if upsert.rows:
                parts.append(self._upsert(upsert, args))
        latest = dict(checkpoints)  # one row per name: a statement may not update a row twice
        if latest:
            parts.append(_CHECKPOINTS.format(names=len(args) + 1, positions=len(args) + 2))
            args += [list(latest), list(latest.values())]
        if not parts:
            return
        if len(parts) == 1:
            await self._db.execute(parts[0], *args)
            return
        ctes = ", ".join(f"w{n} AS ({part})" for n, part in enumerate(parts))
        await self._db.execute(f"WITH {ctes} SELECT 1", *args)

    def _upsert(self, upsert: Upsert, args: list[Any]) -> str:
        """The INSERT of ``upsert``; appends its column arrays to ``args``."""
        target = self._target(upsert.table)
        rows = winners(upsert)
        columns = list(rows[0])
        arrays = []
        for name in columns:
            values = [row[name] for row in rows]
            if isinstance(target.c[name].type, JSON):
                values = [_json(v) for v in values]
            args.append(values)
            arrays.append(f"${len(args)}::{_sql_type(target, name)}[]")
        sql = (  # names from our metadata only; every value is a bound parameter
            f"INSERT INTO {target.name} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT * FROM unnest({', '.join(arrays)}) "
        )
        if upsert.guard is None:
            return sql + "ON CONFLICT DO NOTHING"
        key = [c.name for c in target.primary_key.columns]
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
        return (
            sql + f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates} "
            f"WHERE {target.name}.{upsert.guard} < excluded.{upsert.guard}"
        )
