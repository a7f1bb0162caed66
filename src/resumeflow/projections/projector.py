"""The projector: FastStream consumer groups that turn the feed into the Postgres read models.

Shape (docs/adr/0003-projections.md and docs/adr/0006-read-side.md say why):

- A group is a set of projections written in ONE transaction with ONE checkpoint per delivery.
  The projector runs one, ``projection``: the events archive and every read model.
- Per partition and group, two subscribers under stable consumer names: a batch reader of new
  entries (``XREADGROUP >``) and a claimer (``XAUTOCLAIM`` after ``claim_idle_ms``, Redis 7.0)
  that takes over entries left pending by a dead or failing consumer.
- A delivery is decoded, projected and written by the Postgres writer as one statement (rows of
  every table and the checkpoint), then XACKed. A crash between commit and XACK only causes a
  redelivery, which the projections' guards ignore: effectively once.
- Data failures: if a delivery fails, each event is tried alone in each projection alone, so one
  poison event holds back only itself, and only where it fails: the archive keeps an event a
  read model's fold refuses. A failed entry stays pending for the claimer; once delivered
  ``max_deliveries`` times it is written to ``dead_letters`` with its error and raw fields, and
  acknowledged.
- Outages: when Postgres or Redis is away, the delivery is retried in place with backoff until
  they answer (a server that is down is not the event's fault), its connection is dropped from
  the pool, and the outage is logged once per kind and interval.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from faststream import FastStream
from faststream.middlewares import AckPolicy
from faststream.redis import RedisBatchStreamMessage, RedisBroker, StreamSub
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.database.outages import is_server_outage
from resumeflow.database.tables import dead_letters
from resumeflow.domain.events import EventCodec, EventEnvelope, default_codec
from resumeflow.eventstore.wire import CONTENT_TYPE, decode_entry, entry_headers
from resumeflow.metrics import DEAD_LETTERS, PROJECTED_EVENTS, PROJECTION_LAG
from resumeflow.projections.batch import History, project
from resumeflow.projections.model import Projection, Upsert
from resumeflow.projections.writers import Checkpoint
from resumeflow.projections.writers.postgres import PostgresWriter

__all__ = [
    "PROJECTION",
    "FetchErrors",
    "Group",
    "GroupProjector",
    "Outage",
    "Reading",
    "build_app",
    "ensure_groups",
    "is_outage",
]

log = logging.getLogger(__name__)
_tracer = trace.get_tracer("resumeflow.projector")
_PROPAGATOR = TraceContextTextMapPropagator()
APPLICATION_ID = "resumeflow.application.id"
"""The span attribute every span about one application carries."""

Fields = Mapping[bytes, bytes]

PROJECTION = "projection"
"""The consumer group that writes the archive and the read models."""


@dataclass(frozen=True)
class Group:
    """A consumer group and the projections it writes together."""

    name: str
    projections: tuple[Projection, ...]


class Outage(Exception):
    """A server the projector needs did not answer; nothing is wrong with the events."""


def is_outage(error: BaseException) -> bool:
    """Connection-level failures of Postgres or Redis (as opposed to a bad event or a bug)."""
    return isinstance(error, Outage | OSError) or is_server_outage(error)


@dataclass
class _OutageLog:
    """One log line per outage kind and interval, not one traceback per entry and attempt."""

    every: float = 30.0
    _since: dict[str, float] = field(default_factory=dict)
    _said: dict[str, float] = field(default_factory=dict)

    def failed(self, kind: str, error: BaseException) -> None:
        now = time.monotonic()
        self._since.setdefault(kind, now)
        if now - self._said.get(kind, -self.every) >= self.every:
            self._said[kind] = now
            log.warning("%s unavailable (%s: %s); retrying", kind, type(error).__name__, error)

    def recovered(self, kind: str) -> None:
        since = self._since.pop(kind, None)
        if since is not None:
            self._said.pop(kind, None)
            log.warning("%s is back after %.1f s", kind, time.monotonic() - since)


class FetchErrors(logging.Filter):
    """FastStream's log, made readable: it logs every failed read with its traceback (``Message
    fetch error``) every few seconds per subscriber while Redis is away (kept: one short line per
    interval), and a line per subscriber as each starts and stops (dropped: the projector says
    in one line what it runs)."""

    _PER_SUBSCRIBER = ("waiting for messages", "is being executed")

    def __init__(self, every: float = 30.0) -> None:
        super().__init__()
        self.every = every
        self._said = -every

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(part in message for part in self._PER_SUBSCRIBER):
            return False
        if message != "Message fetch error":
            return True
        now = time.monotonic()
        if now - self._said < self.every:
            return False
        self._said = now
        error = record.exc_info[1] if record.exc_info else None
        record.msg = f"reading the feed failed ({type(error).__name__}: {error}); retrying"
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = None
        return True


class GroupProjector:
    """Applies entries of one consumer group to its projections; acks or dead-letters each."""

    def __init__(
        self,
        *,
        group: Group,
        engine: AsyncEngine,
        redis: Redis,
        history: History,
        max_deliveries: int,
        codec: EventCodec | None = None,
        retry_seconds: tuple[float, float] = (0.1, 5.0),
    ) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError(
                f"the projector writes to Postgres through asyncpg, not {engine.dialect.name}"
            )
        self.group = group
        self.engine = engine
        self.redis = redis
        self.history = history
        self.max_deliveries = max_deliveries
        self._codec = codec or default_codec()
        self._retry = retry_seconds
        self._outages = _OutageLog()

    async def handle(
        self, stream: str, ids: Sequence[bytes], entries: Sequence[Fields], *, claimed: bool
    ) -> None:
        """Apply a delivery (ids in stream order); ack what was applied, retry through outages."""
        delay = self._retry[0]
        while True:
            try:
                await self._handle(stream, ids, entries, claimed=claimed)
            except Exception as error:
                if not is_outage(error):
                    raise
                self._outages.failed(_kind(error), error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry[1])
                continue
            self._outages.recovered("Postgres")
            self._outages.recovered("Redis")
            return

    async def _handle(
        self, stream: str, ids: Sequence[bytes], entries: Sequence[Fields], *, claimed: bool
    ) -> None:
        decoded: list[tuple[bytes, EventEnvelope]] = []
        failed: dict[bytes, BaseException] = {}
        for entry_id, fields in zip(ids, entries, strict=True):
            try:
                decoded.append((entry_id, decode_entry(fields, self._codec)))
            except Exception as undecodable:  # recorded below: retried, then dead-lettered
                failed[entry_id] = undecodable
        applied: list[bytes] = []
        if decoded:
            # A claimed delivery holds old entries: the checkpoint stays where the reader is.
            checkpoints = [] if claimed else [(f"{self.group.name}@{stream}", ids[-1].decode())]
            try:
                began = time.time_ns()
                await self._write([event for _, event in decoded], checkpoints)
                applied = [entry_id for entry_id, _ in decoded]
                committed = time.time_ns()
                self._traced([event for _, event in decoded], began, committed)
                self._measured(applied, committed)
            except Exception as batch_error:
                if is_outage(batch_error):
                    raise
                for entry_id, event in decoded:
                    error = await self._alone(event)
                    if error is None:
                        applied.append(entry_id)
                    else:
                        failed[entry_id] = error
        if applied:
            await self.redis.xack(stream, self.group.name, *applied)
        if failed:
            by_id = dict(zip(ids, entries, strict=True))
            for entry_id, reason in failed.items():
                await self._failed(stream, entry_id, by_id[entry_id], reason)

    def _measured(self, entry_ids: Sequence[bytes], committed_ns: int) -> None:
        """Lag: from each entry's append (its id is Redis's clock) to the commit."""
        lag = PROJECTION_LAG.labels(self.group.name)
        for entry_id in entry_ids:
            lag.observe(max(0.0, committed_ns / 1e9 - int(entry_id.split(b"-", 1)[0]) / 1000))
        PROJECTED_EVENTS.labels(self.group.name).inc(len(entry_ids))

    def _traced(self, events: Sequence[EventEnvelope], began: int, ended: int) -> None:
        """A span per application in its own trace (the delivery's span, FastStream's, links to
        them all): how long its events took to reach the read models. No-op without tracing."""
        latest: dict[UUID, EventEnvelope] = {}
        for event in events:
            latest[event.application_id] = event
        for application_id, event in latest.items():
            if not event.traceparent:
                continue
            parent = _PROPAGATOR.extract({"traceparent": event.traceparent})
            span = _tracer.start_span(
                "projection apply",
                context=parent,
                kind=trace.SpanKind.CONSUMER,
                start_time=began,
                attributes={
                    APPLICATION_ID: str(application_id),
                    "resumeflow.event.version": event.version,
                    "messaging.consumer.group.name": self.group.name,
                },
            )
            span.end(end_time=ended)

    async def _alone(self, event: EventEnvelope) -> Exception | None:
        """Apply one event to each projection on its own, so a projection that cannot take it
        (a fold refusing it) holds back neither the others (the archive keeps it) nor other
        events. Returns the first failure; the projections that took it are idempotent when the
        entry is delivered again."""
        failure: Exception | None = None
        for projection in self.group.projections:
            try:
                await self._write([event], [], (projection,))
            except Exception as error:
                if is_outage(error):
                    raise
                failure = failure or error
        return failure

    async def _write(
        self,
        events: Sequence[EventEnvelope],
        checkpoints: list[Checkpoint],
        projections: Sequence[Projection] | None = None,
    ) -> None:
        """Project ``events`` and record ``checkpoints``: one statement, all or nothing."""
        async with self.engine.connect() as conn:
            try:
                raw = await conn.get_raw_connection()
                writer = PostgresWriter(raw.driver_connection)
                committed = await project(
                    projections or self.group.projections, events, writer, self.history,
                    checkpoints,
                )  # fmt: skip
            except Exception as error:
                if is_outage(error):
                    await conn.invalidate()  # never hand this connection out again
                raise
        committed()

    async def _failed(
        self, stream: str, entry_id: bytes, fields: Fields, error: BaseException
    ) -> None:
        deliveries = await self._deliveries(stream, entry_id)
        where = f"{self.group.name}: entry {entry_id.decode()} on {stream}"
        if deliveries < self.max_deliveries:
            log.error(
                "%s failed (delivery %d of %d), left pending for the claimer: %s: %s",
                where, deliveries, self.max_deliveries, type(error).__name__, error,
            )  # fmt: skip
            return
        await self._dead_letter(stream, entry_id, fields, error, deliveries)
        await self.redis.xack(stream, self.group.name, entry_id)
        DEAD_LETTERS.labels(self.group.name).inc()
        log.error(
            "%s failed %d times, dead-lettered", where, deliveries, exc_info=error
        )  # fmt: skip

    async def _deliveries(self, stream: str, entry_id: bytes) -> int:
        pending = await self.redis.xpending_range(
            stream, self.group.name, min=entry_id, max=entry_id, count=1
        )
        return int(pending[0]["times_delivered"]) if pending else self.max_deliveries

    async def _dead_letter(
        self, stream: str, entry_id: bytes, fields: Fields, error: BaseException, deliveries: int
    ) -> None:
        record = {k.decode(errors="replace"): v.decode(errors="replace") for k, v in fields.items()}
        row = {
            "consumer_group": self.group.name,
            "stream": stream,
            "entry_id": entry_id.decode(),
            "event_id": _uuid_or_none(record.get("event_id")),
            "application_id": _uuid_or_none(record.get("application_id")),
            "event": record,
            "error": f"{type(error).__name__}: {error}",
            "deliveries": deliveries,
            "dead_at": datetime.now(UTC),
        }
        async with self.engine.connect() as conn:
            try:
                raw = await conn.get_raw_connection()
                await PostgresWriter(raw.driver_connection).write([Upsert(dead_letters, [row])])
            except Exception as failure:
                if is_outage(failure):
                    await conn.invalidate()
                raise


def _kind(error: BaseException) -> str:
    return "Redis" if isinstance(error, RedisConnectionError | RedisTimeoutError) else "Postgres"


def _uuid_or_none(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


async def ensure_groups(redis: Redis, streams: Sequence[str], groups: Sequence[str]) -> None:
    """Create each group at the start of each stream (id 0), so no event appended before the
    projector's first start is missed. FastStream would create them at ``$`` (the end)."""
    for stream in streams:
        for group in groups:
            try:
                await redis.xgroup_create(stream, group, id="0", mkstream=True)
            except ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise


@dataclass(frozen=True)
class Reading:
    """How the subscribers read: FastStream's stream options, from ProjectionSettings."""

    consumer_name: str
    batch_size: int
    polling_interval_ms: int
    claim_idle_ms: int
    claim_poll_ms: int


def build_app(
    *,
    redis_url: str,
    redis: Redis,
    streams: Sequence[str],
    projectors: Sequence[GroupProjector],
    reading: Reading,
    middlewares: Sequence[Any] = (),
) -> FastStream:
    """The FastStream app: a reader and a claimer per partition and group."""
    broker = RedisBroker(redis_url, logger=log, apply_types=False, middlewares=tuple(middlewares))
    for projector in projectors:
        for stream in streams:
            for claimed in (False, True):
                sub = StreamSub(
                    stream,
                    group=projector.group.name,
                    consumer=f"{reading.consumer_name}.claimer"
                    if claimed
                    else reading.consumer_name,
                    batch=True,
                    max_records=1 if claimed else reading.batch_size,
                    polling_interval=reading.claim_poll_ms
                    if claimed
                    else reading.polling_interval_ms,
                    min_idle_time=reading.claim_idle_ms if claimed else None,
                )
                subscriber = broker.subscriber(
                    stream=sub,
                    ack_policy=AckPolicy.MANUAL,
                    parser=parse_entries,
                    decoder=_delivery,
                )
                subscriber(_handler(projector, claimed))

    async def create_groups() -> None:
        await ensure_groups(redis, streams, [p.group.name for p in projectors])
        for projector in projectors:
            log.info(
                "projecting %s into %s on %d partitions as %s (a reader and a claimer each)",
                projector.group.name,
                ", ".join(t.name for p in projector.group.projections for t in p.tables),
                len(streams),
                reading.consumer_name,
            )

    return FastStream(broker, on_startup=[create_groups], logger=log)


async def parse_entries(raw: Mapping[str, Any], original: Any) -> RedisBatchStreamMessage:
    """FastStream ``parser=`` for a batch of our entries: the message carries each entry's
    headers (``traceparent`` for the telemetry middleware, event id, correlation id) and the raw
    entries as its body. The default parser would JSON-encode every entry only for the handler
    to decode it again; the handler decodes raw entries with the wire mapper instead."""
    headers = [entry_headers(fields) for fields in raw["data"]]
    first = headers[0] if headers else {}
    return RedisBatchStreamMessage(
        raw_message=raw,
        body=raw["data"],
        headers=first,
        batch_headers=headers,
        content_type=CONTENT_TYPE,
        message_id=first.get("message_id"),
        correlation_id=first.get("correlation_id"),
        consumer=_NO_ACKS,
        group=None,
    )


class _NoAcks:
    """The message's consumer: acknowledgements are the projector's own (AckPolicy.MANUAL), so
    FastStream never acks through the message; these are what its protocol asks for."""

    async def xack(self, name: str, groupname: str, *ids: bytes) -> None:
        return None

    async def xdel(self, name: str, *ids: bytes) -> None:
        return None

    async def xpending_range(
        self, name: str, groupname: str, min: bytes, max: bytes, count: int
    ) -> list[dict[str, Any]]:
        return []


_NO_ACKS = _NoAcks()


async def _delivery(message: RedisBatchStreamMessage, original: Any) -> Any:
    """FastStream ``decoder=``: the delivery as redis-py returned it (channel, ids, entries)."""
    return message.raw_message


def _handler(projector: GroupProjector, claimed: bool) -> Any:
    async def handle(raw: Mapping[str, Any]) -> None:
        await projector.handle(raw["channel"], raw["message_ids"], raw["data"], claimed=claimed)

    handle.__name__ = f"{projector.group.name}{'.claim' if claimed else ''}"
    return handle
