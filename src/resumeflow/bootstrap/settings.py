"""Every setting of every process, from ``RESUMEFLOW_*`` environment variables or ``.env``.

One module, one prefix, one name per server:

- ``RESUMEFLOW_DATABASE_URL``: the read models, job posts and (distributed) the events archive:
  SQLite under ``RESUMEFLOW_DATA_DIR`` by default, Postgres (asyncpg) in production;
- ``RESUMEFLOW_REDIS_URL``: the Redis Streams event log. Set, the mode is distributed; unset, the
  log is the SQL database's ``events`` table and the mode is embedded;
- ``RESUMEFLOW_BROKER_URL``: Celery's broker (default: the log's Redis).

The sections group what one kind of process reads (``log``, ``projections``, ``workers``); each
reads the same environment with the same prefix, so a variable's name is its field's name.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "AdapterChoice",
    "ApiSettings",
    "LogSettings",
    "ProjectionSettings",
    "Settings",
    "WorkerSettings",
]

AdapterChoice = Literal["local", "real"]

_CONFIG = SettingsConfigDict(env_prefix="RESUMEFLOW_", env_file=".env", extra="ignore")

PLACEHOLDER_SECRETS = frozenset(
    {"resumeflow", "postgres", "password", "changeme", "change-me", "secret", "example", "test"}
)
"""Secrets refused in production: the examples' defaults and the usual stand-ins."""


def _password(url: str) -> str:
    """The password of a server URL (``scheme://user:password@host/...``), or ''."""
    credentials = url.partition("://")[2].rpartition("@")[0]
    return credentials.partition(":")[2] if credentials else ""


class LogSettings(BaseSettings):
    """The Redis Streams log's shape: every writer and reader of one log must agree on it."""

    model_config = _CONFIG

    stream_prefix: str = Field(default="rf", min_length=1, description="key prefix of the log")
    stream_partitions: int = Field(
        default=2,
        ge=1,
        le=256,
        description="feed partitions; cannot change once a log exists (docs/adr/0006-read-side.md)",
    )
    feed_retention_seconds: float = Field(
        default=7 * 24 * 3600.0,
        gt=0,
        description="feed entries older than this are trimmed once every reader has them",
    )
    application_retention_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="a finished application's stream stays in Redis this long once archived; "
        "its reads then come from the archive",
    )


class ProjectionSettings(BaseSettings):
    """The projector process: consumer groups from the feed into the read models."""

    model_config = _CONFIG

    consumer_name: str = Field(
        default_factory=socket.gethostname,
        description="stable per replica (pod name, StatefulSet ordinal): a restarted replica "
        "must come back under the same name",
    )
    batch_size: int = Field(default=500, ge=1, le=10_000, description="entries per read")
    polling_interval_ms: int = Field(default=100, ge=1, description="XREADGROUP block time")
    claim_idle_ms: int = Field(
        default=30_000, ge=100, description="pending this long, an entry is claimed by a live one"
    )
    claim_poll_ms: int = Field(
        default=1000, ge=1, description="how often an idle claimer looks for stale entries"
    )
    state_cache_size: int = Field(
        default=10_000,
        ge=0,
        description="applications whose last state the projector keeps in memory (0: none)",
    )
    max_deliveries: int = Field(
        default=5, ge=1, description="deliveries after which a failing entry is dead-lettered"
    )
    trim_every_seconds: float = Field(
        default=60.0, gt=0, description="how often the projector trims the feed (retention)"
    )


class WorkerSettings(BaseSettings):
    """The Celery workers: adapters, their endpoints, and the reliability knobs.

    Each adapter is chosen on its own (``local`` or ``real``), so a deployment can move one
    dependency to the cloud at a time; the endpoint settings point the real ones elsewhere (a
    regional endpoint, a proxy, the local fakes of ``resumeflow bench``).
    """

    model_config = _CONFIG

    blob_store: AdapterChoice = "local"
    extractor: AdapterChoice = "local"
    parser: AdapterChoice = "local"
    embedder: AdapterChoice = "local"

    s3_bucket: str = "resumeflow"
    s3_region: str = "eu-west-1"
    s3_endpoint_url: str | None = None
    s3_inbox_prefix: str = "inbox/"
    s3_ocr_prefix: str = Field(
        default="ocr-pages/", description="PDFs of the pages sent to Textract (expire them)"
    )
    textract_region: str | None = Field(default=None, description="default: s3_region")
    textract_endpoint_url: str | None = None
    textract_poll_seconds: float = Field(default=5.0, gt=0)

    gemini_api_key: SecretStr = SecretStr("")
    gemini_base_url: str | None = None
    gemini_api_version: str | None = None
    gemini_model: str = "gemini-2.5-flash"
    gemini_embedding_model: str = "gemini-embedding-001"
    gemini_timeout_seconds: float = Field(
        default=20.0, gt=0, description="one Gemini HTTP call; attempts x this < stage timeout"
    )
    gemini_http_attempts: int = Field(
        default=2, ge=1, description="tries of one Gemini call inside a stage run"
    )
    gemini_rate_per_minute: int = Field(default=600, ge=1)

    worker_pool: Literal["threads", "prefork", "solo"] = Field(
        default="threads",
        description="threads: one process, one event loop, many tasks in flight (ADR 0004)",
    )
    worker_concurrency: int = Field(default=16, ge=1, description="pool threads or processes")
    queue: str = Field(default="resumeflow", min_length=1, description="the stage tasks' queue")

    max_pending_polls: int = Field(default=360, ge=1, description="Textract polls before giving up")
    stage_timeout_seconds: float = Field(
        default=45.0,
        gt=0,
        description="one stage run; past it the run is a retryable stage_timeout failure",
    )
    task_soft_time_limit: float = Field(
        default=55.0, gt=0, description="a task's coroutine is cancelled and sent again"
    )
    task_time_limit: float = Field(default=65.0, gt=0, description="a prefork child is killed")
    task_max_retries: int = Field(default=3, ge=0, description="redeliveries of a lost task")
    lost_task_retry_seconds: float = Field(
        default=5.0, ge=0, description="countdown of a task re-sent after its prefork child died"
    )
    visibility_timeout: int = Field(
        default=100,
        ge=1,
        description="an unacked message this old (its worker died) is handed out again",
    )
    task_events: bool = Field(
        default=False,
        description="send task events from the start (Flower enables them itself when it runs)",
    )
    unacked_restore_seconds: int = Field(
        default=10,
        ge=1,
        description="how often a worker hands out again messages past the visibility timeout",
    )
    sweep_every_seconds: float = Field(default=60.0, gt=0)
    stuck_after_seconds: float = Field(default=600.0, gt=0)

    @model_validator(mode="after")
    def _check(self) -> WorkerSettings:
        if self.task_soft_time_limit >= self.task_time_limit:
            raise ValueError("the soft time limit must come before the hard one")
        if self.stage_timeout_seconds >= self.task_soft_time_limit:
            raise ValueError("the stage timeout must come before the soft time limit")
        return self


class ApiSettings(BaseSettings):
    """The HTTP API (``resumeflow api``)."""

    model_config = _CONFIG

    api_auth: Literal["on", "off"] = Field(
        default="on", description="off: no API keys asked (development only; said at start)"
    )
    max_backlog: int = Field(
        default=10_000,
        ge=1,
        description="accepted, unfinished applications past which submits get 429",
    )
    upload_overhead_bytes: int = Field(
        default=64 * 1024, ge=0, description="multipart overhead allowed beside the upload limit"
    )
    stream_poll_seconds: float = Field(
        default=0.5, gt=0, description="how often an SSE stream looks for a status change"
    )
    stream_max_seconds: float = Field(
        default=3600.0, gt=0, description="an SSE stream ends after this long even if unfinished"
    )
    embedded_concurrency: int = Field(
        default=4, ge=1, description="embedded mode: applications driven at once in the API"
    )


class Settings(BaseSettings):
    """The settings of one deployment; ``mode`` follows from whether a Redis log is named."""

    model_config = _CONFIG

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Field(
        default=Path(".resumeflow"),
        description="local state: the embedded database, local blob folders, schedules",
    )
    database_url: str = Field(default="", description="default: SQLite under data_dir")
    redis_url: str | None = Field(
        default=None, description="the Redis Streams event log; set: distributed mode"
    )
    broker_url: str | None = Field(default=None, description="Celery's broker; default: redis_url")
    log_format: Literal["text", "json"] = Field(
        default="text", description="json: one JSON object per line, with trace ids"
    )
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535, description="workers and the projector: Prometheus port"
    )
    trace_url: str | None = Field(
        default=None,
        description="a trace UI's page, with {trace_id}: e.g. http://jaeger:16686/trace/{trace_id}",
    )

    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    max_stage_attempts: int = Field(default=3, ge=1)
    retry_base_seconds: float = Field(default=1.0, ge=0)
    retry_max_seconds: float = Field(default=30.0, ge=0)
    embedding_dimension: int = Field(default=512, ge=8)
    ocr_language: str = "eng"

    log: LogSettings = Field(default_factory=LogSettings)
    projections: ProjectionSettings = Field(default_factory=ProjectionSettings)
    workers: WorkerSettings = Field(default_factory=WorkerSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)

    @property
    def mode(self) -> Literal["embedded", "distributed"]:
        return "distributed" if self.redis_url else "embedded"

    @property
    def celery_broker_url(self) -> str:
        broker = self.broker_url or self.redis_url
        if not broker:
            raise ValueError("RESUMEFLOW_BROKER_URL (or RESUMEFLOW_REDIS_URL) is not set")
        return broker

    @property
    def log_redis_url(self) -> str:
        if not self.redis_url:
            raise ValueError("RESUMEFLOW_REDIS_URL is not set: the distributed mode needs it")
        return self.redis_url

    def _refuse_placeholders(self) -> None:
        """Secrets copied from an example (.env.example, docker-compose.yml's defaults) are for
        development; production names its own."""
        secrets = {
            "RESUMEFLOW_GEMINI_API_KEY": self.workers.gemini_api_key.get_secret_value(),
            "RESUMEFLOW_DATABASE_URL": _password(self.database_url),
            "RESUMEFLOW_REDIS_URL": _password(self.redis_url or ""),
            "RESUMEFLOW_BROKER_URL": _password(self.broker_url or ""),
        }
        for name, value in secrets.items():
            if value.casefold() in PLACEHOLDER_SECRETS:
                raise ValueError(
                    f"{name} holds the placeholder secret {value!r}: set a real one for production"
                )

    @model_validator(mode="after")
    def _derive(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'resumeflow.db'}"
        workers = self.workers
        longest_wait = max(
            self.retry_max_seconds, workers.textract_poll_seconds, workers.lost_task_retry_seconds
        )
        if workers.visibility_timeout <= workers.task_time_limit + longest_wait:
            raise ValueError(
                "RESUMEFLOW_VISIBILITY_TIMEOUT must exceed the hard time limit plus the longest "
                "countdown, or the broker hands a running or waiting task to a second worker"
            )
        gemini = "real" in (workers.parser, workers.embedder)
        if self.environment == "production" and self.api.api_auth == "off":
            raise ValueError("RESUMEFLOW_API_AUTH=off is for development only")
        if self.environment == "production":
            self._refuse_placeholders()
        if (
            self.environment == "production"
            and gemini
            and not workers.gemini_api_key.get_secret_value()
        ):
            raise ValueError("RESUMEFLOW_GEMINI_API_KEY is required for the real Gemini")
        return self
