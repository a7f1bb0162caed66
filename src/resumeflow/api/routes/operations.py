"""Health, readiness, and the operator's dead letters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from resumeflow.api.deps import Operator, Runtime
from resumeflow.api.problems import ProblemError, problem_response
from resumeflow.api.schemas import DeadLetterOut, DeadLetterPage, Ready
from resumeflow.projections.dead_letters import dead_letter_page, redrive

__all__ = ["operations_router"]


def operations_router() -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """The process is up (it answers; nothing else is checked)."""
        return {"status": "ok"}

    @router.get(
        "/readyz",
        tags=["health"],
        response_model=Ready,
        responses={503: {"model": Ready, "description": "a dependency does not answer"}},
    )
    async def readyz(runtime: Runtime) -> JSONResponse:
        """The log, the read models and (distributed) the broker answer."""
        checks = await runtime.ready()
        ok = all(v == "ok" for v in checks.values())
        body = Ready(
            status="ready" if ok else "not ready", mode=runtime.settings.mode, checks=checks
        )
        return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

    @router.get("/v1/dead-letters", tags=["operations"], response_model=DeadLetterPage)
    async def dead_letters(
        runtime: Runtime,
        caller: Operator,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    ) -> DeadLetterPage:
        """Events the projector could not apply, newest first (none in the embedded mode)."""
        rows, after = await dead_letter_page(runtime.engine, after=cursor, limit=limit)
        return DeadLetterPage(
            items=[DeadLetterOut.model_validate(row) for row in rows],
            next_cursor=None if after is None else str(after),
        )

    @router.post(
        "/v1/dead-letters/{dead_letter_id}/redrive",
        tags=["operations"],
        status_code=202,
        response_model=DeadLetterOut,
        responses={409: problem_response("the embedded mode has no feed to redrive into")},
    )
    async def redrive_one(runtime: Runtime, caller: Operator, dead_letter_id: int) -> DeadLetterOut:
        """Feed a dead letter's event to the projector again (once its cause is fixed)."""
        if runtime.redis is None:
            raise ProblemError(409, "no_feed", "the embedded mode projects inline: no dead letters")
        row = await redrive(runtime.engine, runtime.redis, dead_letter_id)
        if row is None:
            raise ProblemError(404, "not_found", f"no dead letter {dead_letter_id}")
        return DeadLetterOut.model_validate(row)

    return router
