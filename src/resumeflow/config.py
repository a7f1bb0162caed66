"""Settings: environment variables prefixed ``RESUMEFLOW_`` (or a ``.env`` file), read once."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RESUMEFLOW_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Field(
        default=Path(".resumeflow"), description="embedded mode: database and blobs"
    )
    database_url: str = Field(default="", description="default: SQLite under data_dir")
    redis_url: str = "redis://127.0.0.1:6379/0"
    stream_partitions: int = Field(default=4, ge=1, le=256)
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    max_stage_attempts: int = Field(default=3, ge=1)
    retry_base_seconds: float = Field(default=1.0, ge=0)
    retry_max_seconds: float = Field(default=60.0, ge=0)
    embedding_dimension: int = Field(default=512, ge=8)
    ocr_language: str = "eng"

    @model_validator(mode="after")
    def _derive(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'resumeflow.db'}"
        return self
