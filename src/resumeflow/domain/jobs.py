"""Job posts: what an application is scored against."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["JobPost", "SkillRequirement"]


class SkillRequirement(BaseModel):
    """One thing a post asks for: a skill, or any one of several ("such as A, B or C").

    ``accepts`` holds every skill that meets it, the family members included (MySQL meets
    SQL), so scoring needs no taxonomy of its own. ``weight`` is 1 for a requirement and
    lower for a nice-to-have.
    """

    model_config = ConfigDict(frozen=True)

    label: str
    accepts: tuple[str, ...]
    weight: float = Field(default=1.0, gt=0, le=1)

    @classmethod
    def single(cls, skill: str) -> SkillRequirement:
        return cls(label=skill, accepts=(skill,))


class JobPost(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    title: str
    description: str
    required_skills: tuple[str, ...] = ()
    """The skills named as requirements, each once (display and search)."""
    skill_requirements: tuple[SkillRequirement, ...] = ()
    """What scoring checks; built from ``required_skills`` when not given."""
    min_years_experience: float = Field(default=0.0, ge=0)
    created_at: datetime | None = None
    closed_at: datetime | None = None
    """A closed post refuses new applications; those it has go on to their end."""

    def embedding_text(self) -> str:
        """What an embedder sees of the post: its title and the skills it asks for first, so
        they outweigh the company blurb that every post of one employer shares."""
        skills = " ".join(s for r in self.skill_requirements for s in r.accepts[:1] or ())
        return f"{self.title}\n{self.title}\n{skills}\n{self.description}"

    @model_validator(mode="before")
    @classmethod
    def _requirements_from_names(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("skill_requirements"):
            names = data.get("required_skills") or ()
            data = {**data, "skill_requirements": [SkillRequirement.single(n) for n in names]}
        return data
