"""Job post repositories: SQL (both modes) and in-memory (tests)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.database.tables import job_posts
from resumeflow.domain.jobs import JobPost

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
            "required_skills": list(job.required_skills),
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
        return JobPost(
            id=row["id"],
            title=row["title"],
            description=row["description"],
            required_skills=tuple(row["required_skills"]),
            min_years_experience=row["min_years_experience"],
        )


class InMemoryJobPostRepository:
    def __init__(self) -> None:
        self._posts: dict[UUID, JobPost] = {}

    async def add(self, job: JobPost) -> None:
        self._posts[job.id] = job

    async def get(self, job_post_id: UUID) -> JobPost | None:
        return self._posts.get(job_post_id)
