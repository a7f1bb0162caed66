"""A writer per backend: applies projections' row changes and a checkpoint in one transaction.

Both take the same ``Upsert`` values (projections/model.py) and both read rows back for a
projection's ``Reads``. ``targets`` maps a table's name to another table of the same shape (the
rebuild writes fresh tables). Rows of one key are reduced to the one the guard keeps before they
are sent: one statement may not update a row twice.
"""

from __future__ import annotations

from typing import Any

from resumeflow.projections.model import Row, Upsert

__all__ = ["Checkpoint", "winners"]

Checkpoint = tuple[str, str]
"""(name, position): what a consumer group last applied on one stream."""


def winners(upsert: Upsert) -> list[Row]:
    """One row per primary key: the one with the greatest guard (the first without a guard)."""
    key = [c.name for c in upsert.table.primary_key.columns if c.name in upsert.rows[0]]
    if not key:  # an auto-increment key (the archive): its unique columns decide, in SQL
        return list(upsert.rows)
    best: dict[tuple[Any, ...], Row] = {}
    for row in upsert.rows:
        k = tuple(row[c] for c in key)
        held = best.get(k)
        if held is None or (upsert.guard is not None and held[upsert.guard] < row[upsert.guard]):
            best[k] = row
    return list(best.values())
