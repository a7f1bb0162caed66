"""Our wire format read by a real FastStream RedisBroker stream subscriber in a consumer group."""

from __future__ import annotations

import asyncio
from typing import cast
from uuid import uuid4

import pytest
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.annotations import RedisBatchStreamMessage, RedisStreamMessage
from faststream.redis.opentelemetry import RedisTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from redis.asyncio import Redis

from resumeflow.domain.events import EventEnvelope
from resumeflow.streams.feed import Entry
from resumeflow.streams.redis_store import RedisStreamEventStore
from resumeflow.streams.wire import CONTENT_TYPE, FIELDS, EventEnvelopeCodec, parse_stream_message
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


async def test_a_faststream_group_subscriber_receives_decoded_envelopes_with_their_trace(
    redis_server: RedisServer, redis: Redis, key_prefix: str
) -> None:
    store = RedisStreamEventStore(redis, partitions=1, prefix=key_prefix)
    feed = store.feed_keys[0]
    spans = InMemorySpanExporter()
    tracing = TracerProvider()
    tracing.add_span_processor(SimpleSpanProcessor(spans))
    broker = RedisBroker(
        redis_server.url, middlewares=[RedisTelemetryMiddleware(tracer_provider=tracing)]
    )
    received: list[tuple[EventEnvelope, str, str]] = []
    batches: list[list[EventEnvelope]] = []
    events = _traced(3)
    done = asyncio.Event()

    @broker.subscriber(
        stream=StreamSub(feed, group="projector", consumer="p-0", polling_interval=20),
        parser=parse_stream_message,
        codec=EventEnvelopeCodec(),
    )
    async def project(event: EventEnvelope, message: RedisStreamMessage) -> None:
        received.append((event, message.headers.get("traceparent", ""), message.message_id))
        if len(received) == len(events) and batches:
            done.set()

    @broker.subscriber(
        stream=StreamSub(feed, group="bulk", consumer="b-0", batch=True, polling_interval=20),
        parser=parse_stream_message,
        codec=EventEnvelopeCodec(),
    )
    async def project_batch(batch: list[EventEnvelope], message: RedisBatchStreamMessage) -> None:
        assert all(h["traceparent"] == TRACEPARENT for h in message.batch_headers)
        batches.append(batch)
        if sum(map(len, batches)) == len(events) and len(received) == len(events):
            done.set()

    async with broker:
        await broker.start()
        for event in events:
            await store.append(event.application_id, [event], expected_version=0)
        await asyncio.wait_for(done.wait(), timeout=10)

    assert [r[0] for r in received] == events  # equal envelopes, typed payloads, in feed order
    assert {r[1] for r in received} == {TRACEPARENT}
    assert [r[2] for r in received] == [str(e.event_id) for e in events]
    assert [e for b in batches for e in b] == events
    trace_id, parent_id = int(TRACEPARENT[3:35], 16), int(TRACEPARENT[36:52], 16)
    joined = [
        span
        for span in spans.get_finished_spans()
        if span.context is not None
        and span.context.trace_id == trace_id
        and span.parent is not None
        and span.parent.span_id == parent_id
    ]
    assert len(joined) == len(events)  # each single-message process span joins the event's trace
    for group in ("projector", "bulk"):  # handled without error, so acknowledged
        assert (await redis.xpending(feed, group))["pending"] == 0


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
