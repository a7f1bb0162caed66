"""The Redis wire format of an event (version 1): the one mapper between envelopes and entries.

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

from collections.abc import Mapping

from resumeflow.domain.errors import UnknownEventType
from resumeflow.domain.events import EventCodec, EventEnvelope, default_codec

__all__ = [
    "CONTENT_TYPE",
    "FIELDS",
    "WIRE_VERSION",
    "decode_entry",
    "encode_entry",
    "entry_headers",
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
