"""The seed's read-model queries, with keyset pagination, in SQLAlchemy Core.

Why keyset and not OFFSET: page n costs the same as page 1, and a row inserted meanwhile never
shifts a page. Every shape orders by (key, id) so ties are broken deterministically, and the
cursor is the last row's (key, id). The predicate carries both ``key >= k`` (a plain range the
planner always matches to the index) and ``(key, id) > (k, i)`` (the exact keyset), because
Postgres does not turn a row comparison into an index range when ``id`` is not in the index.

The same code runs on Postgres (distributed mode) and SQLite (embedded mode; row values need
SQLite 3.15+). Each shape is served by one index of revision 0002 (tested with EXPLAIN).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_, func, literal, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from resumeflow.database.tables import applications

__all__ = [
    "ApplicationFilter",
    "ApplicationSummary",
    "Page",
    "QueryShape",
    "application_row",
    "by_email",
    "by_job_post_and_status",
    "by_status",
    "count_in",
    "created_between",
    "decode_cursor",
    "encode_cursor",
    "fetch_page",
    "newest_first",
    "ranking",
    "statement",
    "updated_between",
]

_a = applications.c
SUMMARY_COLUMNS = (
    _a.id, _a.job_post_id, _a.email, _a.name, _a.status, _a.score,
    _a.version, _a.created_at, _a.updated_at,
)  # fmt: skip


@dataclass(frozen=True)
class ApplicationSummary:
    id: UUID
    job_post_id: UUID
    email: str
    name: str
    status: str
    score: float | None
    version: int
    created_at: datetime
    updated_at: datetime
    score_breakdown: dict[str, Any] | None = None


@dataclass(frozen=True)
class Page:
    items: list[ApplicationSummary]
    next_cursor: str | None
    """Pass back as ``after`` for the next page; None on the last page."""


@dataclass(frozen=True)
class QueryShape:
    """A query shape: a filter, an order key, and a direction."""

    where: ColumnElement[bool]
    key: Any
    descending: bool = False
    extra: tuple[Any, ...] = ()
    """Columns beyond the summary's (the ranking's score breakdown)."""


def encode_cursor(key: Any, row_id: UUID) -> str:
    value = key.isoformat() if isinstance(key, datetime) else key
    raw = json.dumps([value, str(row_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str, *, is_time: bool) -> tuple[Any, UUID]:
    value, row_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    return (datetime.fromisoformat(value) if is_time else value), UUID(row_id)


def _statement(shape: QueryShape, after: str | None, limit: int) -> Select[Any]:
    key, ident = shape.key, _a.id
    query = select(*SUMMARY_COLUMNS, *shape.extra).where(shape.where)
    if after is not None:
        value, row_id = decode_cursor(after, is_time=key.type.python_type is datetime)
        bound = tuple_(literal(value, key.type), literal(row_id, ident.type))
        if shape.descending:
            query = query.where(and_(key <= value, tuple_(key, ident) < bound))
        else:
            query = query.where(and_(key >= value, tuple_(key, ident) > bound))
    order = (key.desc(), ident.desc()) if shape.descending else (key.asc(), ident.asc())
    return query.order_by(*order).limit(limit)


async def fetch_page(
    conn: AsyncConnection, shape: QueryShape, *, after: str | None = None, limit: int = 50
) -> Page:
    rows = (await conn.execute(_statement(shape, after, limit))).mappings().all()
    items = [ApplicationSummary(**row) for row in rows]
    if len(items) < limit:
        return Page(items, None)
    last = rows[-1]
    return Page(items, encode_cursor(last[shape.key.name], last["id"]))


def statement(shape: QueryShape, *, after: str | None = None, limit: int = 50) -> Select[Any]:
    """The SELECT a shape runs (for EXPLAIN and benchmarks)."""
    return _statement(shape, after, limit)


@dataclass(frozen=True)
class ApplicationFilter:
    """What ``GET /v1/applications`` filters on; every field optional, all must hold."""

    status: str | None = None
    job_post_id: UUID | None = None
    email: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    submitted_by: UUID | None = None


def newest_first(f: ApplicationFilter) -> QueryShape:
    """Applications matching ``f``, newest first (each filter alone has its index)."""
    conditions: list[ColumnElement[bool]] = []
    if f.status is not None:
        conditions.append(_a.status == f.status)
    if f.job_post_id is not None:
        conditions.append(_a.job_post_id == f.job_post_id)
    if f.email is not None:
        conditions.append(_a.email == f.email)
    if f.submitted_by is not None:
        conditions.append(_a.submitted_by == f.submitted_by)
    if f.created_from is not None:
        conditions.append(_a.created_at >= f.created_from)
    if f.created_to is not None:
        conditions.append(_a.created_at < f.created_to)
    if f.updated_from is not None:
        conditions.append(_a.updated_at >= f.updated_from)
    if f.updated_to is not None:
        conditions.append(_a.updated_at < f.updated_to)
    return QueryShape(and_(true(), *conditions), _a.created_at, descending=True)


async def application_row(conn: AsyncConnection, application_id: UUID) -> dict[str, Any] | None:
    """The whole ``applications`` row of one application, if projected."""
    row = (
        await conn.execute(select(applications).where(_a.id == application_id))
    ).mappings().first()  # fmt: skip
    return dict(row) if row is not None else None


async def count_in(conn: AsyncConnection, statuses: Sequence[str], *, up_to: int) -> int:
    """How many applications are in ``statuses``, counting no further than ``up_to``."""
    inner = select(_a.id).where(_a.status.in_(statuses)).limit(up_to).subquery()
    return int((await conn.execute(select(func.count()).select_from(inner))).scalar_one())


def by_status(status: str) -> QueryShape:
    return QueryShape(_a.status == status, _a.created_at)


def by_job_post_and_status(job_post_id: UUID, status: str) -> QueryShape:
    return QueryShape(and_(_a.job_post_id == job_post_id, _a.status == status), _a.created_at)


def by_email(email: str) -> QueryShape:
    return QueryShape(_a.email == email, _a.created_at)


def created_between(start: datetime, end: datetime) -> QueryShape:
    return QueryShape(and_(_a.created_at >= start, _a.created_at < end), _a.created_at)


def updated_between(start: datetime, end: datetime) -> QueryShape:
    return QueryShape(and_(_a.updated_at >= start, _a.updated_at < end), _a.updated_at)


def ranking(job_post_id: UUID) -> QueryShape:
    """A job post's scored applications, best first."""
    return QueryShape(
        and_(_a.job_post_id == job_post_id, _a.score.is_not(None)),
        _a.score,
        descending=True,
        extra=(_a.score_breakdown,),
    )
