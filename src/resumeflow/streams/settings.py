"""Settings of the projector process: environment variables prefixed ``RESUMEFLOW_``.

Why its own class: the projector is deployed on its own (more replicas, other machines) and
needs only Postgres, Redis and these knobs, not the API's or the workers' settings.
"""

from __future__ import annotations

import socket

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ProjectorSettings"]


class ProjectorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RESUMEFLOW_", env_file=".env", extra="ignore")

    postgres_url: str = Field(
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/resumeflow",
        description="SQLAlchemy URL of the read models and the events archive (asyncpg)",
    )
    redis_url: str = "redis://127.0.0.1:6379/0"
    stream_prefix: str = Field(default="rf", description="key prefix of the event log")
    stream_partitions: int = Field(default=4, ge=1, le=256)
    applications_group: str = "projection.applications"
    archive_group: str = "projection.archive"
    timings_group: str = "projection.stage_timings"
    consumer_name: str = Field(
        default_factory=socket.gethostname,
        description="stable per replica (pod name, StatefulSet ordinal): a restarted replica "
        "must come back under the same name",
    )
    batch_size: int = Field(default=500, ge=1, le=10_000)
    polling_interval_ms: int = Field(default=100, ge=1)
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
    gc_threshold: int = Field(
        default=100_000, ge=700, description="allocations between young-generation collections"
    )
    max_deliveries: int = Field(
        default=5, ge=1, description="deliveries after which a failing entry is dead-lettered"
    )

    def groups(self) -> list[str]:
        return [self.applications_group, self.archive_group, self.timings_group]

    def feed_keys(self) -> list[str]:
        """The feed partitions, named as RedisStreamEventStore names them."""
        return [f"{self.stream_prefix}:feed:{n}" for n in range(self.stream_partitions)]
