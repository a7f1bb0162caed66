"""Job post repositories: SQL (both modes) and in-memory (tests)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.domain.jobs import JobPost, SkillRequirement
from resumeflow.streams.tables import job_posts

__all__ = ["InMemoryJobPostRepository", "SqlJobPostRepository"]


class SqlJobPostRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, job: JobPost) -> None:
        """Insert, or replace the post with the same id (re-registering a post is allowed)."""
        values = {
            "id": job.id,
            "title": job.title,
            "description": job.description,
            "required_skills": _encode_requirements(job),
            "min_years_experience": job.min_years_experience,
        }
        async with self._engine.begin() as conn:
            updated = await conn.execute(
                job_posts.update().where(job_posts.c.id == job.id).values(values)
            )
            if updated.rowcount == 0:
                await conn.execute(
                    job_posts.insert().values(values | {"created_at": datetime.now(UTC)})
                )

    async def get(self, job_post_id: UUID) -> JobPost | None:
        async with self._engine.connect() as conn:
            row = (
                (await conn.execute(select(job_posts).where(job_posts.c.id == job_post_id)))
                .mappings()
                .first()
            )
        if row is None:
            return None
        requirements = tuple(_decode_requirement(item) for item in row["required_skills"])
        return JobPost(
            id=row["id"],
            title=row["title"],
            description=row["description"],
            required_skills=tuple(dict.fromkeys(r.label for r in requirements if r.weight == 1)),
            skill_requirements=requirements,
            min_years_experience=row["min_years_experience"],
        )


def _encode_requirements(job: JobPost) -> list[Any]:
    """The ``required_skills`` column: a plain name for a single required skill (as rows
    written before requirements had options and weights), an object otherwise."""
    return [
        r.label if r.accepts == (r.label,) and r.weight == 1 else r.model_dump(mode="json")
        for r in job.skill_requirements
    ]


def _decode_requirement(item: Any) -> SkillRequirement:
    if isinstance(item, str):
        return SkillRequirement.single(item)
    return SkillRequirement.model_validate(item)


class InMemoryJobPostRepository:
    def __init__(self) -> None:
        self._posts: dict[UUID, JobPost] = {}

    async def add(self, job: JobPost) -> None:
        self._posts[job.id] = job

    async def get(self, job_post_id: UUID) -> JobPost | None:
        return self._posts.get(job_post_id)
