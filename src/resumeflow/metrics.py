"""Prometheus metrics: what each process counts and measures, and the collectors read at scrape.

Names follow Prometheus conventions (units in the name, ``_total`` on counters) and every label
has a bounded set of values: stages, outcomes, failure reasons (stable codes), HTTP methods and
route templates, queues, consumer groups. Never an application id.

Exposed on the API at ``/metrics``, and by ``resumeflow worker --metrics-port`` and
``resumeflow projector --metrics-port`` (docs/operations/observability.md lists them and what to
alert on).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from prometheus_client import Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

__all__ = [
    "APPLICATIONS_FINISHED",
    "APPLICATIONS_SUBMITTED",
    "DEAD_LETTERS",
    "HTTP_REQUEST_DURATION",
    "PROJECTED_EVENTS",
    "PROJECTION_LAG",
    "RATE_LIMIT_WAIT",
    "STAGE_DURATION",
    "FeedLagCollector",
    "QueueLengthCollector",
    "serve",
]

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

APPLICATIONS_SUBMITTED = Counter(
    "resumeflow_applications_submitted_total",
    "Submissions, by outcome: accepted, repeated (an Idempotency-Key seen before), or the "
    "reason of a refusal",
    ["outcome"],
)
APPLICATIONS_FINISHED = Counter(
    "resumeflow_applications_finished_total",
    "Applications that reached an end: completed, or failed at a stage with a reason",
    ["status", "stage", "reason"],
)
STAGE_DURATION = Histogram(
    "resumeflow_stage_duration_seconds",
    "One run of a stage in a worker, by stage and outcome (done, retry, pending, failed, "
    "skipped, error)",
    ["stage", "outcome"],
    buckets=_LATENCY,
)
RATE_LIMIT_WAIT = Histogram(
    "resumeflow_llm_rate_limit_wait_seconds",
    "Time a Gemini call waited for the shared rate limit",
    buckets=(0.001, 0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60),
)
HTTP_REQUEST_DURATION = Histogram(
    "resumeflow_http_request_duration_seconds",
    "API requests, by method, route template and status code",
    ["method", "route", "status"],
    buckets=_LATENCY,
)
PROJECTION_LAG = Histogram(
    "resumeflow_projection_lag_seconds",
    "From an event's append to its commit in the read models",
    ["group"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
PROJECTED_EVENTS = Counter(
    "resumeflow_projected_events_total", "Events applied to the read models", ["group"]
)
DEAD_LETTERS = Counter(
    "resumeflow_dead_letters_total", "Entries the projector gave up on", ["group"]
)


class QueueLengthCollector(Collector):
    """``resumeflow_queue_length``: messages waiting in each Celery queue (LLEN on the broker)."""

    def __init__(self, broker_url: str, queues: Sequence[str]) -> None:
        from redis import Redis  # the scrape is synchronous

        self._redis = Redis.from_url(broker_url, socket_timeout=2)
        self._queues = tuple(queues)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "resumeflow_queue_length", "Messages waiting in a Celery queue", labels=["queue"]
        )
        for queue in self._queues:
            try:
                family.add_metric([queue], float(self._redis.llen(queue)))
            except Exception:  # noqa: S112 - a scrape during an outage shows no value
                continue
        yield family


class FeedLagCollector(Collector):
    """``resumeflow_projection_lag_entries``: feed entries not yet delivered to a consumer group,
    and ``resumeflow_projection_pending_entries``: delivered and not acknowledged (XINFO GROUPS).
    """

    def __init__(self, redis_url: str, streams: Sequence[str]) -> None:
        from redis import Redis

        self._redis = Redis.from_url(redis_url, socket_timeout=2)
        self._streams = tuple(streams)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        lag = GaugeMetricFamily(
            "resumeflow_projection_lag_entries",
            "Feed entries not yet delivered to a consumer group",
            labels=["group", "stream"],
        )
        pending = GaugeMetricFamily(
            "resumeflow_projection_pending_entries",
            "Feed entries delivered to a consumer group and not acknowledged",
            labels=["group", "stream"],
        )
        for stream in self._streams:
            try:
                groups: list[dict[str, Any]] = self._redis.xinfo_groups(stream)
            except Exception:  # noqa: S112 - no stream yet, or an outage: nothing to show
                continue
            for group in groups:
                name = _text(group["name"])
                if group.get("lag") is not None:
                    lag.add_metric([name, stream], float(group["lag"]))
                pending.add_metric([name, stream], float(group["pending"]))
        yield lag
        yield pending


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def serve(port: int, *collectors: Collector) -> None:
    """Expose the process's metrics on ``port`` (a thread of its own), with ``collectors``."""
    for collector in collectors:
        REGISTRY.register(collector)
    start_http_server(port)
