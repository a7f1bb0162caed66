"""A job post's embedding, computed once and stored with the post (issue 15).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 09:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job_posts") as table:
        table.add_column(sa.Column("embedding", sa.JSON(none_as_null=True), nullable=True))
        table.add_column(sa.Column("embedding_key", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_posts") as table:
        table.drop_column("embedding_key")
        table.drop_column("embedding")
