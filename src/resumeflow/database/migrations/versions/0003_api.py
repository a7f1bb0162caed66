"""What the HTTP API needs: API keys, who submitted an application, closed job posts, redrives.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    with op.batch_alter_table("applications") as table:
        table.add_column(sa.Column("submitted_by", sa.Uuid(), nullable=True))
    with op.batch_alter_table("job_posts") as table:
        table.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("dead_letters") as table:
        table.add_column(sa.Column("redriven_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dead_letters") as table:
        table.drop_column("redriven_at")
    with op.batch_alter_table("job_posts") as table:
        table.drop_column("closed_at")
    with op.batch_alter_table("applications") as table:
        table.drop_column("submitted_by")
    op.drop_table("api_keys")
