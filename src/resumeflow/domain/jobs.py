"""Job posts: what an application is scored against."""

from __future__ import annotations

from datetime import datetime
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
    created_at: datetime | None = None
    closed_at: datetime | None = None
    """A closed post refuses new applications; those it has go on to their end."""
