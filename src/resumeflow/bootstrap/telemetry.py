"""Tracing, configured the standard way: the ``OTEL_*`` environment variables.

- Off unless configured: ``OTEL_TRACES_EXPORTER`` (``otlp`` or ``console``), or an OTLP endpoint
  (``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) which implies otlp.
  ``none`` turns it off. OTLP goes over HTTP/protobuf (Jaeger v2 takes it on port 4318; HTTP also
  survives Celery's prefork, STACK-NOTES §3).
- ``OTEL_SERVICE_NAME`` names the service; each process kind has its default (``resumeflow-api``,
  ``-worker``, ``-projector``). ``OTEL_TRACES_SAMPLER`` and ``OTEL_RESOURCE_ATTRIBUTES`` are read
  by the SDK itself.
- Outgoing HTTP (aiohttp: Gemini's client, and S3/Textract through aiobotocore) gets client
  spans. Redis is not instrumented: its polling (XREADGROUP, BRPOP) would flood the traces.

The trace of one application: the API's request span is current when ``received`` is appended
(its ``traceparent`` is recorded in the event) and when its first Celery message is sent (Celery's
instrumentation puts it in the message headers); each stage task continues that trace, records it
on the events it appends, and passes it on with the next message; the projector's batches link to
the traces of their events.
"""

from __future__ import annotations

import logging
import os
from uuid import UUID

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from resumeflow.projections.projector import APPLICATION_ID

__all__ = [
    "APPLICATION_ID",
    "configure_tracing",
    "current_traceparent",
    "tag_application",
    "trace_id_of",
    "trace_link",
]

log = logging.getLogger(__name__)


def _exporter() -> SpanExporter | None:
    name = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if name in ("", "otlp") and (name == "otlp" or endpoint):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if name == "console":
        return ConsoleSpanExporter()
    if name not in ("", "none"):
        log.warning("OTEL_TRACES_EXPORTER=%s is not supported here (otlp, console, none)", name)
    return None


def configure_tracing(default_service: str) -> TracerProvider | None:
    """Set the global tracer provider from the environment; None when tracing is off."""
    exporter = _exporter()
    if exporter is None:
        return None
    service = os.environ.get("OTEL_SERVICE_NAME") or default_service
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor

    AioHttpClientInstrumentor().instrument(tracer_provider=provider)
    log.info("tracing on: service %s", service)
    return provider


def current_traceparent() -> str | None:
    """The W3C trace context of the current span, as recorded on each event (None: no span)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def tag_application(application_id: UUID | str) -> None:
    """Mark the current span as about this application."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute(APPLICATION_ID, str(application_id))


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id in a W3C ``traceparent`` (``00-<trace id>-<span id>-<flags>``)."""
    if not traceparent:
        return None
    parts = traceparent.split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


def trace_link(trace_id: str | None, template: str | None) -> str | None:
    """The trace UI's page of ``trace_id`` from a template with ``{trace_id}``."""
    if not trace_id or not template:
        return None
    return template.replace("{trace_id}", trace_id)
