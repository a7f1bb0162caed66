"""``/v1/job-posts``: create (JSON, or a file), read, list, close, and rank applications.

Job posts are plain rows (ADR 0001): what a recruiter writes, read from text the way the CLI
reads a job file (skills, any-of groups, nice-to-haves, years), unless the request names them.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError

from resumeflow.adapters.local.job_files import job_post_from_file_bytes
from resumeflow.adapters.local.jobs import job_post_from_text
from resumeflow.api.deps import AnyCaller, Operator, Reader, Runtime
from resumeflow.api.problems import ProblemError, problem_response
from resumeflow.api.schemas import (
    ApplicationPage,
    ApplicationSummaryOut,
    JobPostIn,
    JobPostOut,
    JobPostPage,
)
from resumeflow.domain.errors import DomainError
from resumeflow.domain.ids import new_id
from resumeflow.domain.jobs import JobPost
from resumeflow.projections import queries

__all__ = ["job_posts_router"]

_MAX_JOB_FILE = 5 * 1024 * 1024

_CREATE_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {"schema": JobPostIn.model_json_schema()},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "a job description: text, PDF, DOCX or schema.org JSON-LD",
                    }
                },
            }
        },
    },
}


def _out(job: JobPost) -> JobPostOut:
    return JobPostOut(
        id=job.id,
        title=job.title,
        description=job.description,
        required_skills=list(job.required_skills),
        min_years_experience=job.min_years_experience,
        status="closed" if job.closed_at is not None else "open",
        created_at=job.created_at,
        closed_at=job.closed_at,
    )


async def _from_request(request: Request) -> JobPost:
    job_id = new_id()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=0)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ProblemError(422, "invalid_request", "send the job description as 'file'")
        data = await upload.read()
        if not data:
            raise ProblemError(422, "empty_file", "the job description file is empty")
        try:
            return job_post_from_file_bytes(data, job_post_id=job_id, name=upload.filename or "")
        except (DomainError, ValueError) as bad:
            raise ProblemError(415, "unsupported_format", str(bad)) from bad
    if kind != "application/json":
        raise ProblemError(415, "unsupported_media_type", "send JSON or a multipart file")
    try:
        body = JobPostIn.model_validate_json(await request.body())
    except ValidationError as bad:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in bad.errors()]
        raise ProblemError(422, "invalid_request", str(bad), errors=errors) from bad
    read = job_post_from_text(
        f"{body.title}\n{body.description}", job_post_id=job_id, title=body.title
    )
    changes: dict[str, Any] = {"description": body.description}
    if body.required_skills is not None:
        changes["required_skills"] = tuple(body.required_skills)
        changes["skill_requirements"] = ()
    if body.min_years_experience is not None:
        changes["min_years_experience"] = body.min_years_experience
    return JobPost.model_validate(read.model_dump() | changes)


def job_posts_router() -> APIRouter:
    router = APIRouter(prefix="/v1/job-posts", tags=["job posts"])

    @router.post(
        "",
        status_code=201,
        response_model=JobPostOut,
        max_body_size=_MAX_JOB_FILE,
        openapi_extra={"requestBody": _CREATE_BODY},
        responses={415: problem_response("neither JSON nor a readable job file")},
    )
    async def create(request: Request, runtime: Runtime, caller: Operator) -> JobPostOut:
        """A job post, from JSON (title and description) or from a job description file."""
        job = await _from_request(request)
        await runtime.job_posts.add(job)
        stored = await runtime.job_posts.get(job.id)
        assert stored is not None
        return _out(stored)

    @router.get("/{job_post_id}", response_model=JobPostOut)
    async def get(runtime: Runtime, caller: AnyCaller, job_post_id: UUID) -> JobPostOut:
        job = await runtime.job_posts.get(job_post_id)
        if job is None:
            raise ProblemError(404, "not_found", f"no job post {job_post_id}")
        return _out(job)

    @router.get("", response_model=JobPostPage)
    async def list_(
        runtime: Runtime,
        caller: AnyCaller,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: UUID | None = None,
    ) -> JobPostPage:
        """Job posts, newest first."""
        jobs, after = await runtime.job_posts.page(after=cursor, limit=limit)
        return JobPostPage(
            items=[_out(j) for j in jobs], next_cursor=None if after is None else str(after)
        )

    @router.post("/{job_post_id}/close", response_model=JobPostOut)
    async def close(runtime: Runtime, caller: Operator, job_post_id: UUID) -> JobPostOut:
        """Close the post: it refuses new applications (409); those it has go on."""
        job = await runtime.job_posts.close(job_post_id)
        if job is None:
            raise ProblemError(404, "not_found", f"no job post {job_post_id}")
        return _out(job)

    @router.get("/{job_post_id}/ranking", response_model=ApplicationPage)
    async def ranking(
        runtime: Runtime,
        caller: Reader,
        job_post_id: UUID,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Query(max_length=500)] = None,
    ) -> ApplicationPage:
        """The post's scored applications, best first, each with its score's breakdown."""
        if await runtime.job_posts.get(job_post_id) is None:
            raise ProblemError(404, "not_found", f"no job post {job_post_id}")
        try:
            async with runtime.engine.connect() as conn:
                page = await queries.fetch_page(
                    conn, queries.ranking(job_post_id), after=cursor, limit=limit
                )
        except (ValueError, TypeError) as bad:
            raise ProblemError(
                422, "invalid_cursor", "the cursor is not one this API gave"
            ) from bad
        return ApplicationPage(
            items=[ApplicationSummaryOut.model_validate(vars(i)) for i in page.items],
            next_cursor=page.next_cursor,
        )

    return router
