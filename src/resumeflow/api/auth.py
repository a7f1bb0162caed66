"""Who is calling: ``Authorization: Bearer <API key>``, and what its role lets it do.

Roles (database/api_keys.py): ``submitter`` submits and reads the applications it submitted;
``reader`` reads everything; ``operator`` may do all of it and manages job posts, retries and
dead letters. With ``RESUMEFLOW_API_AUTH=off`` (development only) every caller is an anonymous
operator. A missing or unknown key is 401, a known key with the wrong role 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from fastapi import Request

from resumeflow.api.problems import ProblemError
from resumeflow.bootstrap.api import ApiRuntime
from resumeflow.database.api_keys import Role

__all__ = ["Caller", "authenticate"]

_BEARER = {"WWW-Authenticate": 'Bearer realm="resumeflow"'}


@dataclass(frozen=True)
class Caller:
    key_id: UUID | None
    """The API key's id; None when the API runs without keys."""
    role: Role

    def can_read_all(self) -> bool:
        return self.role in (Role.READER, Role.OPERATOR)


async def authenticate(request: Request, runtime: ApiRuntime) -> Caller:
    if runtime.settings.api.api_auth == "off":
        return Caller(None, Role.OPERATOR)
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ProblemError(
            401, "unauthenticated", "send an API key: Authorization: Bearer <key>", headers=_BEARER
        )
    key = await runtime.keys.find(secret.strip())
    if key is None:
        raise ProblemError(401, "unauthenticated", "unknown or revoked API key", headers=_BEARER)
    return Caller(key.id, key.role)
