"""Job posts: what an application is scored against."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["JobPost"]


class JobPost(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    title: str
    description: str
    required_skills: tuple[str, ...] = ()
    min_years_experience: float = Field(default=0.0, ge=0)
