"""The FastAPI application factory: ``create_app(settings)``; uvicorn runs it with ``--factory``.

The runtime (either mode's, bootstrap/api.py) opens in the lifespan and closes with it; nothing
connects at import time. Every error is a problem document (problems.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from resumeflow.api import problems
from resumeflow.api.routes.applications import applications_router
from resumeflow.api.routes.job_posts import job_posts_router
from resumeflow.api.routes.operations import operations_router
from resumeflow.bootstrap.api import api_runtime
from resumeflow.bootstrap.logs import configure_logging
from resumeflow.bootstrap.settings import Settings
from resumeflow.bootstrap.telemetry import configure_tracing
from resumeflow.metrics import HTTP_REQUEST_DURATION

__all__ = ["create_app", "factory"]

log = logging.getLogger("resumeflow.api")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.api.api_auth == "off":
            log.warning("API keys are OFF (RESUMEFLOW_API_AUTH=off): every caller is an operator")
        async with api_runtime(settings) as runtime:
            app.state.runtime = runtime
            log.info("resumeflow API ready (%s mode)", settings.mode)
            yield
        if tracing is not None:
            tracing.shutdown()  # the last spans out before the process ends

    app = FastAPI(
        title="resumeflow",
        version="1",
        summary="Job applications through an event-sourced pipeline.",
        lifespan=lifespan,
        responses=problems.PROBLEMS,
    )
    problems.install(app)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        """Prometheus' text format (not part of the API's document)."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.middleware("http")
    async def timed(request: Request, call_next: Any) -> Any:
        began = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        HTTP_REQUEST_DURATION.labels(
            request.method, getattr(route, "path", "unmatched"), str(response.status_code)
        ).observe(time.perf_counter() - began)
        return response

    tracing = configure_tracing("resumeflow-api")
    if tracing is not None:
        from opentelemetry.instrumentation.celery import CeleryInstrumentor
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=tracing, excluded_urls="healthz,readyz,metrics"
        )
        # the trace's context travels in each message's headers
        CeleryInstrumentor().instrument(tracer_provider=tracing)  # type: ignore[no-untyped-call]
    app.include_router(operations_router())
    app.include_router(job_posts_router())
    app.include_router(applications_router(settings))
    return app


def factory() -> FastAPI:
    """For ``uvicorn --factory resumeflow.api.app:factory``: settings from the environment; each
    server process (``--workers``) sets up its own logging."""
    settings = Settings()
    configure_logging(settings.log_format)
    return create_app(settings)
