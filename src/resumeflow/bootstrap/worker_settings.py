"""Settings of the Celery workers: environment variables prefixed ``RESUMEFLOW_``.

Why its own class: workers run on other machines than the API and need the broker, the event log,
the real adapters' endpoints and the reliability knobs, none of which the embedded mode has.
Each adapter is chosen on its own (``local``, ``real`` or ``simulated``), so a deployment can
move one dependency to the cloud at a time and the benchmark can stand in for all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["AdapterChoice", "WorkerSettings"]

AdapterChoice = Literal["local", "real", "simulated"]


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RESUMEFLOW_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    broker_url: str = "redis://127.0.0.1:6379/1"
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", description="the event log")
    stream_prefix: str = "rf"
    stream_partitions: int = Field(default=4, ge=1, le=256)
    database_url: str = Field(
        default="sqlite+aiosqlite:///.resumeflow/resumeflow.db",
        description="where job posts are read from (Postgres in production)",
    )
    data_dir: Path = Field(default=Path(".resumeflow"), description="local blob folders")

    blob_store: AdapterChoice = "local"
    extractor: AdapterChoice = "local"
    parser: AdapterChoice = "local"
    embedder: AdapterChoice = "local"

    s3_bucket: str = "resumeflow"
    s3_region: str = "eu-west-1"
    s3_endpoint_url: str | None = None
    s3_inbox_prefix: str = "inbox/"
    textract_region: str | None = Field(default=None, description="default: s3_region")
    textract_endpoint_url: str | None = None
    textract_poll_seconds: float = Field(default=5.0, gt=0)

    gemini_api_key: SecretStr = SecretStr("")
    gemini_base_url: str | None = None
    gemini_api_version: str | None = None
    gemini_model: str = "gemini-2.5-flash"
    gemini_embedding_model: str = "gemini-embedding-001"
    gemini_timeout_seconds: float = Field(default=60.0, gt=0)
    gemini_http_attempts: int = Field(default=4, ge=1)
    gemini_rate_per_minute: int = Field(default=600, ge=1)
    embedding_dimension: int = Field(default=256, ge=8)
    ocr_language: str = "eng"

    simulated_s3_seconds: float = Field(default=0.02, ge=0)
    simulated_textract_polls: int = Field(default=3, ge=0)
    simulated_textract_poll_seconds: float = Field(default=0.3, ge=0)
    simulated_gemini_seconds: float = Field(default=0.8, ge=0)
    simulated_embedding_seconds: float = Field(default=0.15, ge=0)

    worker_pool: Literal["threads", "prefork", "solo"] = Field(
        default="threads",
        description="threads: one process, one event loop, many tasks in flight (ADR 0004)",
    )
    worker_concurrency: int = Field(default=16, ge=1, description="pool threads or processes")
    queue: str = Field(default="resumeflow", min_length=1, description="the stage tasks' queue")

    max_stage_attempts: int = Field(default=3, ge=1)
    retry_base_seconds: float = Field(default=1.0, ge=0)
    retry_max_seconds: float = Field(default=60.0, ge=0)
    max_pending_polls: int = Field(default=360, ge=1, description="Textract polls before giving up")
    task_soft_time_limit: float = Field(default=240.0, gt=0)
    task_time_limit: float = Field(default=300.0, gt=0)
    task_max_retries: int = Field(default=3, ge=0, description="redeliveries of a lost task")
    lost_task_retry_seconds: float = Field(
        default=5.0, ge=0, description="countdown of a task re-sent after its prefork child died"
    )
    visibility_timeout: int = Field(default=3600, ge=1)
    task_events: bool = Field(
        default=False,
        description="send task events from the start (Flower enables them itself when it runs)",
    )
    unacked_restore_seconds: int = Field(
        default=30,
        ge=1,
        description="how often a worker hands out again messages past the visibility timeout",
    )
    sweep_every_seconds: float = Field(default=60.0, gt=0)
    stuck_after_seconds: float = Field(default=600.0, gt=0)

    @model_validator(mode="after")
    def _check(self) -> WorkerSettings:
        longest_wait = max(
            self.retry_max_seconds, self.textract_poll_seconds, self.lost_task_retry_seconds
        )
        if self.visibility_timeout <= self.task_time_limit + longest_wait:
            raise ValueError(
                "visibility_timeout must exceed the hard time limit plus the longest countdown, "
                "or the broker hands a running or waiting task to a second worker"
            )
        if self.task_soft_time_limit >= self.task_time_limit:
            raise ValueError("the soft time limit must come before the hard one")
        gemini = "real" in (self.parser, self.embedder)
        if (
            self.environment == "production"
            and gemini
            and not self.gemini_api_key.get_secret_value()
        ):
            raise ValueError("RESUMEFLOW_GEMINI_API_KEY is required for the real Gemini")
        return self
