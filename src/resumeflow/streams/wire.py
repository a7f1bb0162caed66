"""The Redis wire format of an event (version 1) and how FastStream subscribers read it.

An event is stored as one stream entry of flat string fields, the same in an application's stream
and in a feed partition (docs/adr/0002-redis-wire-format.md says why):

    wire            "1"  (this format's version; a reader refuses versions it does not know)
    event_id        UUID            application_id  UUID
    version         int             type            "application.parsed"
    schema_version  int             occurred_at     ISO 8601, UTC
    correlation_id  UUID            causation_id    UUID or ""
    traceparent     W3C trace context or ""
    payload         the payload as compact JSON

Invariants: every entry has exactly these fields in this order (Redis then stores the field names
once per stream node), all values are text, and the domain's EventCodec is the only mapper of the
values, so an entry decodes to an envelope equal to the one appended.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from faststream.message import StreamMessage

from resumeflow.domain.errors import UnknownEventType
from resumeflow.domain.events import EventCodec, EventEnvelope, default_codec

__all__ = [
    "CONTENT_TYPE",
    "FIELDS",
    "WIRE_VERSION",
    "EventEnvelopeCodec",
    "decode_entry",
    "encode_entry",
    "entry_headers",
    "parse_stream_message",
]

WIRE_VERSION = "1"
CONTENT_TYPE = "application/vnd.resumeflow.event+json; wire=1"
FIELDS = (
    "wire",
    "event_id",
    "application_id",
    "version",
    "type",
    "schema_version",
    "occurred_at",
    "correlation_id",
    "causation_id",
    "traceparent",
    "payload",
)

_DEFAULT_CODEC = default_codec()

RawFields = Mapping[bytes, bytes] | Mapping[str, str] | Mapping[bytes | str, bytes | str]


def encode_entry(event: EventEnvelope, codec: EventCodec = _DEFAULT_CODEC) -> list[str]:
    """The entry's values in FIELDS order (the field names are FIELDS themselves)."""
    record = codec.encode(event, payload_as_json=True)
    return [
        WIRE_VERSION,
        record["event_id"],
        record["application_id"],
        str(record["version"]),
        record["type"],
        str(record["schema_version"]),
        record["occurred_at"],
        record["correlation_id"],
        record["causation_id"] or "",
        record["traceparent"] or "",
        record["payload"],
    ]


def _text(fields: RawFields) -> dict[str, str]:
    return {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in fields.items()
    }


def decode_entry(fields: RawFields, codec: EventCodec = _DEFAULT_CODEC) -> EventEnvelope:
    """The envelope an entry holds, upcast to current payload schemas by ``codec``."""
    record = _text(fields)
    wire = record.get("wire")
    if wire != WIRE_VERSION:
        raise UnknownEventType(f"stream entry in wire format {wire!r}; this reader knows 1")
    return codec.decode(record)


def entry_headers(fields: RawFields) -> dict[str, str]:
    """The message headers FastStream and OpenTelemetry look for, taken from an entry's fields."""
    record = _text(fields)
    headers = {
        "content-type": CONTENT_TYPE,
        "message_id": record.get("event_id", ""),
        "correlation_id": record.get("correlation_id", ""),
        "event_type": record.get("type", ""),
    }
    if traceparent := record.get("traceparent"):
        headers["traceparent"] = traceparent
    return headers


def _is_ours(fields: Mapping[Any, Any]) -> bool:
    return b"wire" in fields or "wire" in fields


OriginalParser = Callable[[Any], Awaitable[StreamMessage[Any]]]


async def parse_stream_message(raw: Mapping[str, Any], original: OriginalParser) -> Any:
    """FastStream ``parser=`` for stream subscribers (single and batch) reading our entries.

    The original parser builds the message (so ack, nack and delivery counts keep working on the
    consumer group); this one then fills in headers (``traceparent`` for the telemetry middleware,
    ``message_id`` = event id, ``correlation_id``) and the content type from our flat fields.
    Entries in another format pass through untouched.
    """
    message = await original(raw)
    data = raw["data"]
    if raw.get("type") == "bstream":
        entries: Sequence[Mapping[Any, Any]] = data
        if not entries or not all(_is_ours(e) for e in entries):
            return message
        message.batch_headers = [entry_headers(e) for e in entries]
        message.headers = {**message.headers, **message.batch_headers[0]}
        message.body = json.dumps([_text(e) for e in entries]).encode()
    else:
        if not _is_ours(data):
            return message
        message.headers = {**message.headers, **entry_headers(data)}
        message.body = json.dumps(_text(data)).encode()
    message.content_type = CONTENT_TYPE
    message.message_id = message.headers["message_id"]
    message.correlation_id = message.headers["correlation_id"]
    return message


class EventEnvelopeCodec:
    """FastStream ``codec=``: a message parsed by ``parse_stream_message`` decodes to envelopes.

    Decoding reads the raw stream fields, not the JSON body, so there is one mapping only (the
    domain codec). Publishing through FastStream is refused on purpose: events enter the log only
    through the event store, whose append is the checked, deduplicated one.
    """

    def __init__(self, codec: EventCodec | None = None) -> None:
        self._codec = codec or _DEFAULT_CODEC

    async def decode(self, msg: StreamMessage[Any]) -> Any:
        """An EventEnvelope, or a list of them for a batch subscriber (typed Any for FastStream)."""
        data = msg.raw_message["data"]
        if isinstance(data, list):  # a batch subscriber's message (FastStream 0.7.8 calls decode)
            return [decode_entry(fields, self._codec) for fields in data]
        return decode_entry(data, self._codec)

    async def decode_batch(self, msg: StreamMessage[Any]) -> list[EventEnvelope]:
        return [decode_entry(fields, self._codec) for fields in msg.raw_message["data"]]

    async def encode(self, msg: Any, serializer: Any = None) -> tuple[bytes, str | None]:
        raise TypeError("events are appended with RedisStreamEventStore, not published")

    async def encode_batch(
        self, msgs: Sequence[Any], serializer: Any = None
    ) -> list[tuple[bytes, str | None]]:
        raise TypeError("events are appended with RedisStreamEventStore, not published")
