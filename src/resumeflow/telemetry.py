"""Trace context helpers. The domain records a W3C ``traceparent`` on each event; this is where
it comes from (the current OpenTelemetry span), so no inner layer imports OpenTelemetry."""

from __future__ import annotations

from opentelemetry import propagate

__all__ = ["current_traceparent"]


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")
