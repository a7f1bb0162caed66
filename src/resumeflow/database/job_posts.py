"""Job post repositories: SQL (both modes) and in-memory (tests)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.database.tables import job_posts
from resumeflow.domain.jobs import JobPost, SkillRequirement

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
        return _job(row)

    async def embedding(self, job_post_id: UUID, key: str) -> tuple[float, ...] | None:
        query = select(job_posts.c.embedding).where(
            job_posts.c.id == job_post_id, job_posts.c.embedding_key == key
        )
        async with self._engine.connect() as conn:
            vector = (await conn.execute(query)).scalar_one_or_none()
        return tuple(vector) if vector is not None else None

    async def store_embedding(self, job_post_id: UUID, key: str, vector: Sequence[float]) -> None:
        """One UPDATE: concurrent writers of one key write the same row the same way."""
        async with self._engine.begin() as conn:
            await conn.execute(
                job_posts.update()
                .where(job_posts.c.id == job_post_id)
                .values(embedding=list(vector), embedding_key=key)
            )

    async def page(
        self, *, after: UUID | None = None, limit: int = 50
    ) -> tuple[list[JobPost], UUID | None]:
        """Newest first (ids are time-ordered); the cursor of the next page, None on the last."""
        query = select(job_posts).order_by(job_posts.c.created_at.desc(), job_posts.c.id.desc())
        if after is not None:
            anchor = select(job_posts.c.created_at).where(job_posts.c.id == after).scalar_subquery()
            query = query.where(
                tuple_(job_posts.c.created_at, job_posts.c.id) < tuple_(anchor, literal(after))
            )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.limit(limit))).mappings().all()
        jobs = [_job(row) for row in rows]
        return jobs, (jobs[-1].id if len(jobs) == limit else None)

    async def close(self, job_post_id: UUID) -> JobPost | None:
        """Close a post (again is a no-op); None when there is no such post."""
        async with self._engine.begin() as conn:
            await conn.execute(
                job_posts.update()
                .where(job_posts.c.id == job_post_id, job_posts.c.closed_at.is_(None))
                .values(closed_at=datetime.now(UTC))
            )
        return await self.get(job_post_id)


def _job(row: Any) -> JobPost:
    requirements = tuple(_decode_requirement(item) for item in row["required_skills"])
    return JobPost(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        required_skills=tuple(dict.fromkeys(r.label for r in requirements if r.weight == 1)),
        skill_requirements=requirements,
        min_years_experience=row["min_years_experience"],
        created_at=_utc(row["created_at"]),
        closed_at=_utc(row["closed_at"]),
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


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite keeps no offset
        return value.replace(tzinfo=UTC)
    return value


class InMemoryJobPostRepository:
    def __init__(self) -> None:
        self._posts: dict[UUID, JobPost] = {}
        self._embeddings: dict[UUID, tuple[str, tuple[float, ...]]] = {}

    async def add(self, job: JobPost) -> None:
        self._posts[job.id] = job

    async def get(self, job_post_id: UUID) -> JobPost | None:
        return self._posts.get(job_post_id)

    async def embedding(self, job_post_id: UUID, key: str) -> tuple[float, ...] | None:
        stored = self._embeddings.get(job_post_id)
        return stored[1] if stored is not None and stored[0] == key else None

    async def store_embedding(self, job_post_id: UUID, key: str, vector: Sequence[float]) -> None:
        if job_post_id in self._posts:  # as the SQL UPDATE: no post, nothing stored
            self._embeddings[job_post_id] = (key, tuple(vector))
