"""The relational schema: one MetaData with a naming convention, shared by SQLite and Postgres.

Alembic migrations (``migrations/``) are the way a server database gets this schema; the embedded
mode creates it directly with ``metadata.create_all``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

__all__ = [
    "api_keys",
    "applications",
    "dead_letters",
    "events",
    "job_posts",
    "metadata",
    "projection_checkpoints",
    "stage_timings",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Python None must be SQL NULL (not the JSON text 'null'), so "IS NULL" finds rows not yet filled.
_NullableJSON = JSON(none_as_null=True)

# SQLite only auto-increments an INTEGER PRIMARY KEY; Postgres wants a BIGINT identity.
_Position = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("position", _Position, primary_key=True, autoincrement=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("application_id", Uuid, nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(64), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("correlation_id", Uuid, nullable=False),
    Column("causation_id", Uuid, nullable=True),
    Column("traceparent", String(64), nullable=True),
    Column("payload", JSON, nullable=False),
    UniqueConstraint("application_id", "version"),
)

job_posts = Table(
    "job_posts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("title", String(300), nullable=False),
    Column("description", Text, nullable=False),
    Column("required_skills", JSON, nullable=False),
    Column("min_years_experience", Float, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # A closed post refuses new applications; the ones it has go on to their end.
    Column("closed_at", DateTime(timezone=True), nullable=True),
    # Computed at the first score and reused; valid only for the embedder and text its key names.
    Column("embedding", _NullableJSON, nullable=True),
    Column("embedding_key", String(64), nullable=True),
)

applications = Table(
    "applications",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("job_post_id", Uuid, nullable=False),
    Column("email", String(320), nullable=False),
    Column("name", String(300), nullable=False),
    Column("status", String(32), nullable=False),
    Column("next_stage", String(32), nullable=True),
    Column("filename", String(500), nullable=False),
    Column("format", String(16), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("inbox_key", String(200), nullable=False),
    Column("blob_key", String(200), nullable=True),
    Column("extracted_text", Text, nullable=True),
    Column("page_count", Integer, nullable=True),
    Column("ocr_pages", Integer, nullable=True),
    Column("parsed", _NullableJSON, nullable=True),
    Column("json_resume", _NullableJSON, nullable=True),
    Column("parser", String(100), nullable=True),
    # NULL until the embed stage has run: no default, so no list is ever shared between rows.
    Column("embedded_value", _NullableJSON, nullable=True),
    Column("embedding_model", String(100), nullable=True),
    Column("score", Float, nullable=True),
    Column("score_breakdown", _NullableJSON, nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
    Column("awaiting_failure", Integer, nullable=False, server_default="0"),
    Column("failure_stage", String(32), nullable=True),
    Column("failure_reason", String(100), nullable=True),
    Column("failure_detail", Text, nullable=True),
    Column("correlation_id", Uuid, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The API key that submitted it (NULL: the CLI, or an API running without keys).
    Column("submitted_by", Uuid, nullable=True),
    Index(None, "status"),
    Index(None, "created_at"),
    Index(None, "updated_at"),
    Index(None, "job_post_id"),
    Index(None, "email"),
    Index(None, "job_post_id", "status", "created_at"),
    Index(None, "job_post_id", "score"),
    Index(None, "status", "created_at"),
)

projection_checkpoints = Table(
    "projection_checkpoints",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", String(500), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", _Position, primary_key=True, autoincrement=True),
    Column("consumer_group", String(100), nullable=False),
    Column("stream", String(200), nullable=False),
    Column("entry_id", String(64), nullable=False),
    # NULL when the entry could not even be decoded into an event.
    Column("event_id", Uuid, nullable=True),
    Column("application_id", Uuid, nullable=True),
    Column("event", JSON, nullable=False),
    Column("error", Text, nullable=False),
    Column("deliveries", Integer, nullable=False),
    Column("dead_at", DateTime(timezone=True), nullable=False),
    # When an operator fed it back to the projector (``POST /v1/dead-letters/{id}/redrive``).
    Column("redriven_at", DateTime(timezone=True), nullable=True),
    # One record per entry and group: recording a dead letter twice is a no-op.
    UniqueConstraint("consumer_group", "stream", "entry_id"),
)

stage_timings = Table(
    "stage_timings",
    metadata,
    Column("application_id", Uuid, nullable=False),
    Column("stage", String(32), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("duration_ms", Float, nullable=False),
    PrimaryKeyConstraint("application_id", "stage"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)
