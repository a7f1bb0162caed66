"""The projector: FastStream consumer groups that turn the feed into Postgres read models.

Shape (docs/adr/0003-projections.md says why):

- One consumer group per projection (``applications``, ``archive``), on every feed partition.
- Per partition and group, two subscribers under stable consumer names: a batch reader of new
  entries (``XREADGROUP >``) and a claimer (``XAUTOCLAIM`` after ``claim_idle_ms``, Redis 7.0)
  that takes over entries left pending by a dead or failing consumer. FastStream's claimer never
  reads new entries, hence two (STACK-NOTES §2).
- A batch is applied in one transaction together with the group's checkpoint, then XACKed: the
  projection says the batch as one statement's rows (``rows``), written with the checkpoint in
  one pipelined round trip (``pg_rows.write_rows``). If
  the batch fails, each event is tried in its own transaction, so one poison event holds back
  only itself. A failed entry stays pending (FastStream's nack does nothing on Redis); once it
  has been delivered ``max_deliveries`` times, it is written to ``dead_letters`` with its error
  and the raw entry, and acknowledged. Nothing is swallowed: every failure is logged, retried by
  the claimer, or dead-lettered.
- A crash between commit and XACK only causes a redelivery, which the projections ignore
  (row versions, unique event ids): effectively once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, Self
from uuid import UUID

from faststream import FastStream
from faststream.middlewares import AckPolicy
from faststream.redis import RedisBatchStreamMessage, RedisBroker, StreamSub
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.domain.events import EventCodec, EventEnvelope, default_codec
from resumeflow.streams.pg_rows import Checkpoint, Rows, driver_connection, write_rows
from resumeflow.streams.settings import ProjectorSettings
from resumeflow.streams.tables import dead_letters
from resumeflow.streams.wire import decode_entry

__all__ = [
    "AppliedHook",
    "GroupProjector",
    "Projection",
    "build_app",
    "ensure_groups",
]

log = logging.getLogger(__name__)

Fields = Mapping[bytes, bytes]
AppliedHook = Callable[[str, Sequence[bytes]], Awaitable[None] | None]
"""Called after a commit with the stream and the entry ids applied (metrics, benchmarks);
before their XACK, which is bookkeeping: readers see the rows from the commit on."""


class Projection(Protocol):
    """A read model the projector keeps: it says each batch as the rows of one statement."""

    name: str

    async def rows(self, db: Any, events: Sequence[EventEnvelope]) -> Rows:
        """The batch's rows; ``db`` is an asyncpg connection, for reads only."""


def _text(fields: Fields) -> dict[str, str]:
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in fields.items()}


class GroupProjector:
    """Applies entries of one consumer group to one projection; acks or dead-letters each."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        redis: Redis,
        projection: Projection,
        group: str,
        max_deliveries: int,
        codec: EventCodec | None = None,
        on_applied: AppliedHook | None = None,
    ) -> None:
        self.engine = engine
        self.redis = redis
        self.projection = projection
        self.group = group
        self.max_deliveries = max_deliveries
        self._codec = codec or default_codec()
        self._on_applied = on_applied
        if engine.dialect.name != "postgresql":
            raise ValueError(
                f"the projector writes to Postgres through asyncpg, not {engine.dialect.name}"
            )

    async def handle(
        self, stream: str, ids: Sequence[bytes], entries: Sequence[Fields], *, claimed: bool
    ) -> None:
        """Apply a delivery of ``entries`` (ids in stream order); ack what was applied."""
        decoded: list[tuple[bytes, EventEnvelope]] = []
        failed: dict[bytes, BaseException] = {}
        for entry_id, fields in zip(ids, entries, strict=True):
            try:
                decoded.append((entry_id, decode_entry(fields, self._codec)))
            except Exception as undecodable:  # recorded below: retried, then dead-lettered
                failed[entry_id] = undecodable
        applied: list[bytes] = []
        if decoded:
            try:
                checkpoints = [self._checkpoint_of(stream, decoded)] if not claimed else []
                await self._write([event for _, event in decoded], checkpoints)
                applied = [entry_id for entry_id, _ in decoded]
            except Exception as batch_error:
                if len(decoded) == 1:
                    failed[decoded[0][0]] = batch_error
                else:
                    log.warning(
                        "batch of %d failed on %s, retrying one by one", len(decoded), stream
                    )
                    for entry_id, event in decoded:
                        try:
                            await self._write([event], [])
                            applied.append(entry_id)
                        except Exception as single:
                            failed[entry_id] = single
        if applied:
            if self._on_applied is not None:  # the rows are visible from here on
                outcome = self._on_applied(stream, applied)
                if outcome is not None:
                    await outcome
            await self.redis.xack(stream, self.group, *applied)
        by_id = dict(zip(ids, entries, strict=True)) if failed else {}
        for entry_id, reason in failed.items():
            await self._failed(stream, entry_id, by_id[entry_id], reason)

    def _checkpoint_of(
        self, stream: str, items: Sequence[tuple[bytes, EventEnvelope]]
    ) -> Checkpoint:
        """The group's position on ``stream`` once ``items`` (in stream order) are applied."""
        return (f"{self.group}@{stream}", items[-1][0].decode())

    async def _write(
        self, events: Sequence[EventEnvelope], checkpoints: Sequence[Checkpoint]
    ) -> None:
        """Apply ``events`` and record ``checkpoints``: one round trip, all or nothing."""
        async with self.engine.connect() as conn:
            db = await driver_connection(conn)
            rows = await self.projection.rows(db, events)
            await write_rows(db, rows, checkpoints)
        if rows.after_commit is not None:
            rows.after_commit()

    async def _failed(
        self, stream: str, entry_id: bytes, fields: Fields, error: BaseException
    ) -> None:
        deliveries = await self._deliveries(stream, entry_id)
        if deliveries < self.max_deliveries:
            log.error(
                "%s: entry %s on %s failed (delivery %d of %d), left pending for the claimer",
                self.group, entry_id.decode(), stream, deliveries, self.max_deliveries,
                exc_info=error,
            )  # fmt: skip
            return
        log.error(
            "%s: entry %s on %s failed %d times, dead-lettered",
            self.group, entry_id.decode(), stream, deliveries, exc_info=error,
        )  # fmt: skip
        await self._dead_letter(stream, entry_id, fields, error, deliveries)
        await self.redis.xack(stream, self.group, entry_id)

    async def _deliveries(self, stream: str, entry_id: bytes) -> int:
        pending = await self.redis.xpending_range(
            stream, self.group, min=entry_id, max=entry_id, count=1
        )
        return int(pending[0]["times_delivered"]) if pending else self.max_deliveries

    async def _dead_letter(
        self, stream: str, entry_id: bytes, fields: Fields, error: BaseException, deliveries: int
    ) -> None:
        record = _text(fields)
        statement = postgresql.insert(dead_letters).values(
            consumer_group=self.group,
            stream=stream,
            entry_id=entry_id.decode(),
            event_id=_uuid_or_none(record.get("event_id")),
            application_id=_uuid_or_none(record.get("application_id")),
            event=record,
            error=f"{type(error).__name__}: {error}",
            deliveries=deliveries,
            dead_at=datetime.now(UTC),
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement.on_conflict_do_nothing())


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


def build_app(
    settings: ProjectorSettings,
    *,
    redis: Redis,
    projectors: Sequence[GroupProjector],
) -> Any:
    """The FastStream app: a reader and a claimer per partition and group."""
    # apply_types=False: no fast_depends per delivery. With it, the handler's message parameter is
    # a Context field whose resolver is synchronous, which fast_depends runs in a worker thread
    # for every batch (a thread hop and an anyio task group per delivery, ~3% of the projector's
    # CPU and a wake-up of latency); the handler takes the raw batch from _raw_decoder instead.
    broker = RedisBroker(settings.redis_url, logger=log, apply_types=False)
    streams = settings.feed_keys()
    for projector in projectors:
        for stream in streams:
            for claimed in (False, True):
                sub = _StreamSub(
                    stream,
                    group=projector.group,
                    consumer=f"{settings.consumer_name}.claimer"
                    if claimed
                    else settings.consumer_name,
                    batch=True,
                    max_records=1 if claimed else settings.batch_size,
                    polling_interval=settings.claim_poll_ms
                    if claimed
                    else settings.polling_interval_ms,
                    min_idle_time=settings.claim_idle_ms if claimed else None,
                )
                subscriber = broker.subscriber(
                    stream=sub,
                    ack_policy=AckPolicy.MANUAL,
                    parser=_lean_parser,
                    decoder=_raw_decoder,
                )
                subscriber(_handler(projector, claimed))

    async def create_groups() -> None:
        await ensure_groups(redis, streams, [p.group for p in projectors])

    return FastStream(broker, on_startup=[create_groups], logger=log)


class _StreamSub(StreamSub):
    """FastStream 0.7 adds the broker's prefix to a subscription with a ``deepcopy`` on every
    read and every log line (``stream_sub`` property): ~9% of the projector's CPU at 2,000
    events/s. We configure no prefix, so the subscription itself will do."""

    def add_prefix(self, prefix: str) -> Self:
        return self if not prefix else super().add_prefix(prefix)


async def _lean_parser(raw: Mapping[str, Any], original: Any) -> Any:
    """FastStream's batch parser, minus the JSON body it would build from every entry.

    The handler decodes the raw entries itself with the wire mapper (``decode_entry``); the
    default parser's ``dump_json`` of the whole batch cost as much as projecting it.
    """
    message = await original({**raw, "data": []})
    message.raw_message = raw
    return message


async def _raw_decoder(message: RedisBatchStreamMessage, original: Any) -> Any:
    """The delivery as redis-py returned it (channel, message_ids, data): the handler's body."""
    return message.raw_message


def _handler(projector: GroupProjector, claimed: bool) -> Any:
    async def handle(raw: Mapping[str, Any]) -> None:
        await projector.handle(raw["channel"], raw["message_ids"], raw["data"], claimed=claimed)

    handle.__name__ = f"{projector.group}{'.claim' if claimed else ''}"
    return handle
