"""What a projection is: a batch of events in, row changes for its own tables out.

A projection never talks to a database. It reads what it needs through ``Reads`` (current rows by
key, an application's history) and returns ``Changes``: upserts whose ``guard`` column decides
which of two rows for one key wins. A writer per backend (``writers/``) applies the changes of
every projection of a batch, and the consumer's checkpoint, in one transaction. The embedded
mode (inside the append's transaction), the FastStream projector and the rebuild run the same
projections through the same writers, so both modes have the same read models.

Redelivery is harmless by construction: a row carries the guard of what it was built from (a
version, a finish time), and a write with a guard not greater than the stored one changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import Table

from resumeflow.domain.events import EventEnvelope

__all__ = ["Changes", "Json", "Projection", "ProjectionGap", "Reads", "Row", "Upsert"]

Row = Mapping[str, Any]
"""A row by column name, with Python values (UUID, aware datetime; a JSON column's value as
dicts and lists, or as ``Json`` text already serialized). Rows read back are always decoded."""


class Json(str):
    """A JSON column's value serialized ahead (a projection that can reuse the text of an
    unchanged value, or an event's own payload): writers store the text as it is."""

    __slots__ = ()


@dataclass(frozen=True)
class Upsert:
    """Insert ``rows`` into ``table``; on a primary key conflict keep the row with the greater
    ``guard`` column (the stored one on a tie). Without a guard a conflict keeps the stored row."""

    table: Table
    rows: Sequence[Row]
    guard: str | None = None


@dataclass(frozen=True)
class Changes:
    """A projection's answer to a batch: row changes, and what to do once they are committed
    (a projection's in-memory cache may only learn what the database has kept)."""

    upserts: Sequence[Upsert] = ()
    on_commit: Callable[[], None] | None = field(default=None, compare=False)


class Reads(Protocol):
    """What a projection may read while it decides, inside the writer's transaction."""

    async def rows(self, table: Table, keys: Sequence[Any]) -> list[Row]:
        """The stored rows of ``table`` whose (single-column) primary key is in ``keys``."""

    async def history(self, application_id: UUID, *, after_version: int = 0) -> list[EventEnvelope]:
        """The application's events after ``after_version`` (the log: to fill a gap)."""


class Projection(Protocol):
    """One read model: its tables, and the changes a batch of events makes to them."""

    name: str
    tables: tuple[Table, ...]

    async def changes(self, events: Sequence[EventEnvelope], reads: Reads) -> Changes:
        """``events`` are in log order per application, possibly redelivered or with gaps."""


class ProjectionGap(Exception):
    """An event arrived before one it depends on, and the log did not have the missing ones."""

    def __init__(self, application_id: UUID, have: int, got: int) -> None:
        super().__init__(f"application {application_id}: at version {have}, got event {got}")
        self.application_id = application_id
        self.have = have
        self.got = got
