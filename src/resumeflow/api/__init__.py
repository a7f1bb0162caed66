"""The HTTP API: FastAPI app factory, routes, auth, problem details and schemas."""

from resumeflow.api.app import create_app

__all__ = ["create_app"]
