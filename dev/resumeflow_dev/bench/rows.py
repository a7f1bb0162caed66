"""Synthetic ``applications`` rows in bulk, and the query shapes to run against them.

Why synthetic rows and not the pipeline: a million applications through extraction and parsing
would take hours; the indexes only care about the distribution of the indexed columns. The
distribution is skewed the way a live system is (most applications completed, a few failed),
deterministic per seed, and loaded with COPY (the fastest path into Postgres).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information

from resumeflow.projections import queries
from resumeflow.projections.queries import QueryShape

__all__ = ["SeedPlan", "copy_rows", "seed_shapes"]

_STATUSES = (
    ("completed", 0.62), ("scored", 0.08), ("embedded", 0.05), ("parsed", 0.05),
    ("text_extracted", 0.05), ("stored", 0.05), ("received", 0.04),
    ("stage_failed", 0.03), ("failed", 0.02), ("retried", 0.01),
)  # fmt: skip
_COLUMNS = (
    "id", "job_post_id", "email", "name", "status", "filename", "format", "size_bytes",
    "sha256", "inbox_key", "score", "attempts", "awaiting_failure", "correlation_id",
    "version", "created_at", "updated_at",
)  # fmt: skip
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SeedPlan:
    """What ``copy_rows`` loads: ``rows`` applications over ``job_posts`` posts, one year."""

    rows: int
    job_posts: int = 1000
    seed: int = 7
    statuses: tuple[tuple[str, float], ...] = _STATUSES
    """(status, weight): the mix of states the rows are in."""

    def job_post_id(self, n: int) -> UUID:
        return UUID(int=(0x7 << 76) | (n + 1))

    def email(self, n: int) -> str:
        return f"applicant{n}@example.org"


def _rows(plan: SeedPlan, start: int, count: int) -> Iterator[tuple[object, ...]]:
    rng = random.Random(plan.seed * 1_000_003 + start)
    names, weights = zip(*plan.statuses, strict=True)
    statuses = rng.choices(names, weights, k=count)
    year = 365 * 24 * 3600
    for offset in range(count):
        n = start + offset
        status = statuses[offset]
        created = EPOCH + timedelta(seconds=rng.random() * year)
        scored = status in ("completed", "scored")
        yield (
            UUID(int=rng.getrandbits(128) & ~(0xF << 76) | (0x4 << 76)),
            plan.job_post_id(rng.randrange(plan.job_posts)),
            plan.email(rng.randrange(plan.rows)),
            f"Applicant {n}",
            status,
            f"resume-{n}.pdf",
            "pdf",
            50_000,
            "0" * 64,
            f"inbox/{n}",
            round(rng.random() * 100, 3) if scored else None,
            0,
            0,
            UUID(int=n + 1),
            7 if scored else 3,
            created,
            created + timedelta(minutes=rng.random() * 600),
        )


async def copy_rows(dsn: str, plan: SeedPlan, *, chunk: int = 100_000) -> None:
    """Append ``plan.rows`` rows to ``applications`` with COPY, ``chunk`` rows per call."""
    conn = await asyncpg.connect(dsn)
    try:
        for start in range(0, plan.rows, chunk):
            records = list(_rows(plan, start, min(chunk, plan.rows - start)))
            await conn.copy_records_to_table("applications", records=records, columns=_COLUMNS)
        await conn.execute("ANALYZE applications")
    finally:
        await conn.close()


def seed_shapes(plan: SeedPlan, variant: int = 0) -> dict[str, QueryShape]:
    """One instance of each seed query shape; ``variant`` picks other parameter values."""
    rng = random.Random(variant)
    post = plan.job_post_id(rng.randrange(plan.job_posts))
    start = EPOCH + timedelta(days=rng.randrange(300))
    return {
        "by_status": queries.by_status(rng.choice(("failed", "stage_failed", "completed"))),
        "by_job_post_and_status": queries.by_job_post_and_status(post, "completed"),
        "by_email": queries.by_email(plan.email(rng.randrange(plan.rows))),
        "created_between": queries.created_between(start, start + timedelta(days=7)),
        "updated_between": queries.updated_between(start, start + timedelta(days=7)),
        "ranking": queries.ranking(post),
    }
