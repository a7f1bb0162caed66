"""Every error the API answers is one problem-details document (RFC 9457), mapped here only.

``type`` is a stable URI per kind of problem (``https://resumeflow.dev/problems/<code>``), so a
client branches on it, never on the human ``title`` or ``detail``. Domain errors and request
validation errors are translated in one place: routes raise, this module answers.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from resumeflow.domain.errors import (
    ConcurrencyConflict,
    DomainError,
    IdempotencyConflict,
    IllegalTransition,
    JobPostClosed,
    UnknownJobPost,
    UploadRejected,
)

__all__ = [
    "MEDIA_TYPE",
    "PROBLEMS",
    "Problem",
    "ProblemError",
    "install",
    "problem_response",
    "problem_type",
]

MEDIA_TYPE = "application/problem+json"
_BASE = "https://resumeflow.dev/problems/"
log = logging.getLogger("resumeflow.api")

_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}

_UPLOADS = {  # UploadRejected reasons -> HTTP status
    "empty_file": 422,
    "file_too_large": 413,
    "invalid_email": 422,
    "unsupported_format": 415,
    "format_mismatch": 415,
}


def problem_type(code: str) -> str:
    return _BASE + code


class Problem(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    type: str = Field(description="a stable URI naming the kind of problem")
    title: str
    status: int
    detail: str = ""
    instance: str = ""
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="per-field problems of a request that did not validate"
    )


def problem_response(description: str) -> dict[str, Any]:
    return {
        "model": Problem,
        "description": description,
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: problem_response("a malformed request"),
    401: problem_response("no API key, or an unknown or revoked one"),
    403: problem_response("the API key's role may not do this"),
    404: problem_response("no such resource (or not the caller's to see)"),
    405: problem_response("the method is not allowed here"),
    422: problem_response("the request does not validate"),
    500: problem_response("an unexpected error"),
}
"""The problem answers every operation may give, for the OpenAPI document."""


class ProblemError(Exception):
    """Raised by routes and dependencies: answered as a problem document."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str = "",
        *,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail or code)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.errors = errors


def _answer(request: Request, error: ProblemError) -> JSONResponse:
    body = Problem(
        type=problem_type(error.code),
        title=_TITLES.get(error.status, "Error"),
        status=error.status,
        detail=error.detail,
        instance=request.url.path,
        errors=error.errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=error.status,
        headers=error.headers,
        media_type=MEDIA_TYPE,
    )


def translate(error: Exception) -> ProblemError | None:
    """The problem a domain error is, or None for errors that are bugs."""
    if isinstance(error, ProblemError):
        return error
    if isinstance(error, UploadRejected):
        return ProblemError(_UPLOADS.get(error.reason, 422), error.reason, error.detail)
    if isinstance(error, UnknownJobPost):  # named in a request's body: the request is wrong
        return ProblemError(422, "unknown_job_post", str(error))
    if isinstance(error, JobPostClosed):
        return ProblemError(409, "job_post_closed", str(error))
    if isinstance(error, IdempotencyConflict):
        return ProblemError(409, "idempotency_key_reused", str(error))
    if isinstance(error, IllegalTransition):
        return ProblemError(409, "illegal_transition", str(error))
    if isinstance(error, ConcurrencyConflict):
        return ProblemError(409, "concurrent_change", str(error))
    return None


def install(app: FastAPI) -> None:
    """Answer every error the app can raise as a problem document."""

    async def on_problem(request: Request, error: Exception) -> JSONResponse:
        problem = translate(error)
        if problem is None:  # a domain error no request should cause: a bug
            return await on_bug(request, error)
        return _answer(request, problem)

    async def on_http(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed", 413: "file_too_large"}.get(
            error.status_code, f"http_{error.status_code}"
        )
        headers = dict(error.headers or {})
        return _answer(
            request, ProblemError(error.status_code, code, str(error.detail), headers=headers)
        )

    async def on_invalid(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in error.errors()
        ]
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        return _answer(request, ProblemError(422, "invalid_request", detail, errors=errors))

    async def on_bug(request: Request, error: Exception) -> JSONResponse:
        log.error(
            "%s %s failed", request.method, request.url.path, exc_info=error
        )  # the path names ids only; bodies (personal data) are never logged
        return _answer(request, ProblemError(500, "internal_error", "an unexpected error"))

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(DomainError, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(Exception, on_bug)
