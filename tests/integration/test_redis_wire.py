"""Our wire format read by a real FastStream RedisBroker stream subscriber in a consumer group."""

from __future__ import annotations

import asyncio
from typing import Any, cast
from uuid import uuid4

import pytest
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.opentelemetry import RedisTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from redis.asyncio import Redis

from resumeflow.domain.events import EventEnvelope
from resumeflow.eventstore.feed import Entry
from resumeflow.eventstore.redis_streams import RedisStreamEventStore
from resumeflow.eventstore.wire import CONTENT_TYPE, FIELDS, decode_entry
from resumeflow.projections.projector import parse_entries
from tests.factories import received_payload
from tests.servers import RedisServer

pytestmark = pytest.mark.integration

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _traced(n: int) -> list[EventEnvelope]:
    return [
        EventEnvelope.new(application_id=uuid4(), version=1, payload=received_payload(),
                          traceparent=TRACEPARENT)
        for _ in range(n)
    ]  # fmt: skip


async def test_the_projector_parser_gives_faststream_each_entry_trace_for_a_batch_span(
    redis_server: RedisServer, redis: Redis, key_prefix: str
) -> None:
    """The projector's parser hands FastStream a batch message whose per-entry headers carry
    each event's ``traceparent``: its telemetry middleware then links the batch's process span
    to every event's trace, and the handler gets the raw entries to decode with the wire mapper."""
    store = RedisStreamEventStore(redis, partitions=1, prefix=key_prefix)
    feed = store.feed_keys[0]
    spans = InMemorySpanExporter()
    tracing = TracerProvider()
    tracing.add_span_processor(SimpleSpanProcessor(spans))
    broker = RedisBroker(
        redis_server.url,
        middlewares=[RedisTelemetryMiddleware(tracer_provider=tracing)],
        apply_types=False,
    )
    received: list[EventEnvelope] = []
    events = _traced(3)
    done = asyncio.Event()

    @broker.subscriber(
        stream=StreamSub(feed, group="bulk", consumer="b-0", batch=True, polling_interval=20),
        parser=parse_entries,
        decoder=lambda message, original: message.raw_message,
    )
    async def project_batch(raw: dict[str, Any]) -> None:
        received.extend(decode_entry(fields) for fields in raw["data"])
        await redis.xack(feed, "bulk", *raw["message_ids"])
        if len(received) == len(events):
            done.set()

    await redis.xgroup_create(feed, "bulk", id="0", mkstream=True)
    for event in events:
        await store.append(event.application_id, [event], expected_version=0)
    async with broker:
        await broker.start()
        await asyncio.wait_for(done.wait(), timeout=10)

    assert received == events  # equal envelopes, typed payloads, in feed order
    trace_id, parent_id = int(TRACEPARENT[3:35], 16), int(TRACEPARENT[36:52], 16)
    linked = [
        link.context
        for span in spans.get_finished_spans()
        for link in span.links
        if link.context.trace_id == trace_id
    ]
    assert linked and all(context.span_id == parent_id for context in linked)
    assert (await redis.xpending(feed, "bulk"))["pending"] == 0


async def test_entries_are_flat_readable_fields(redis: Redis, key_prefix: str) -> None:
    store = RedisStreamEventStore(redis, partitions=1, prefix=key_prefix)
    (event,) = _traced(1)
    await store.append(event.application_id, [event], expected_version=0)
    for key in (store.stream_key(event.application_id), store.feed_keys[0]):
        ((_, fields),) = cast(list[Entry], await redis.xrange(key))
        assert tuple(k.decode() for k in fields) == FIELDS
        assert fields[b"wire"] == b"1" and fields[b"type"] == b"application.received"
        assert fields[b"traceparent"] == TRACEPARENT.encode()
        assert fields[b"payload"].startswith(b'{"job_post_id":')
    assert CONTENT_TYPE.startswith("application/vnd.resumeflow.event+json")
