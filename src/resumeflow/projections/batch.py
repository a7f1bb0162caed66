"""Projecting one batch: every projection's changes, written with a checkpoint in one go.

The one place where projections meet a writer; the embedded mode's inline projections, the
FastStream projector and the rebuild all call ``project``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import Table

from resumeflow.domain.events import EventEnvelope
from resumeflow.projections.model import Projection, Row, Upsert
from resumeflow.projections.writers import Checkpoint

__all__ = ["History", "Writer", "project"]

History = Callable[..., Awaitable[list[EventEnvelope]]]
"""``history(application_id, after_version=n)``: an event store's ``read``."""


class Writer(Protocol):
    async def rows(self, table: Table, keys: Sequence[Any]) -> list[Row]: ...

    async def write(
        self, upserts: Sequence[Upsert], checkpoints: Sequence[Checkpoint] = ()
    ) -> None: ...


class _Reads:
    def __init__(self, writer: Writer, history: History) -> None:
        self._writer = writer
        self._history = history

    async def rows(self, table: Table, keys: Sequence[Any]) -> list[Row]:
        return await self._writer.rows(table, keys)

    async def history(self, application_id: UUID, *, after_version: int = 0) -> list[EventEnvelope]:
        return await self._history(application_id, after_version=after_version)


async def project(
    projections: Sequence[Projection],
    events: Sequence[EventEnvelope],
    writer: Writer,
    history: History,
    checkpoints: Sequence[Checkpoint] = (),
) -> Callable[[], None]:
    """Write what ``events`` change in every projection; returns what to run after the commit."""
    reads = _Reads(writer, history)
    changes = [await projection.changes(events, reads) for projection in projections]
    await writer.write([u for c in changes for u in c.upserts], checkpoints)
    hooks = [c.on_commit for c in changes if c.on_commit is not None]

    def committed() -> None:
        for hook in hooks:
            hook()

    return committed
