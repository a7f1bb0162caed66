"""The performance indexes of the seed's query shapes (single-column and composite).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 11:40:00

Each index serves one shape of ``streams/queries.py`` (a test EXPLAINs them at 100k rows):
status, created_at, updated_at, job_post_id and email alone; job post + status + created_at
(a post's applications in one state, newest page first); status + created_at (a state's
queue in order); job post + score (ranking, scanned backward for best-first).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: tuple[tuple[str, ...], ...] = (
    ("status",),
    ("created_at",),
    ("updated_at",),
    ("job_post_id",),
    ("email",),
    ("job_post_id", "status", "created_at"),
    ("status", "created_at"),
    ("job_post_id", "score"),
)


def _name(columns: tuple[str, ...]) -> str:
    return "ix_applications_" + "_".join(columns)


def upgrade() -> None:
    for columns in INDEXES:
        op.create_index(op.f(_name(columns)), "applications", list(columns), unique=False)


def downgrade() -> None:
    for columns in reversed(INDEXES):
        op.drop_index(op.f(_name(columns)), table_name="applications")
