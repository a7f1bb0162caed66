"""The routes' dependencies, as ``Annotated`` aliases: the runtime, and the caller by role."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from resumeflow.api.auth import Caller, authenticate
from resumeflow.api.problems import ProblemError
from resumeflow.bootstrap.api import ApiRuntime
from resumeflow.database.api_keys import Role

__all__ = ["AnyCaller", "Operator", "Reader", "Runtime", "Submitter"]


def _runtime(request: Request) -> ApiRuntime:
    runtime: ApiRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[ApiRuntime, Depends(_runtime)]


def _role(*allowed: Role) -> object:
    async def caller(request: Request, runtime: Runtime) -> Caller:
        who = await authenticate(request, runtime)
        if runtime.settings.api.api_auth == "off":
            return who  # development: every caller may do everything
        if who.role not in allowed:
            names = " or ".join(r.value for r in allowed)
            raise ProblemError(403, "forbidden", f"this needs the {names} role")
        return who

    return Depends(caller)


AnyCaller = Annotated[Caller, _role(Role.SUBMITTER, Role.READER, Role.OPERATOR)]
"""Any valid key (what it may see is checked per resource: a submitter's own applications)."""
Submitter = Annotated[Caller, _role(Role.SUBMITTER, Role.OPERATOR)]
"""Who may submit: a submitter, or an operator (re-submitting on someone's behalf, trying it)."""
Reader = Annotated[Caller, _role(Role.READER, Role.OPERATOR)]
Operator = Annotated[Caller, _role(Role.OPERATOR)]
