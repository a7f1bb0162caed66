"""The envelope and its one mapper: round trips, upcasting, and what is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar
from uuid import uuid4

import pytest

from resumeflow.domain.errors import UnknownEventType
from resumeflow.domain.events import EventCodec, EventEnvelope, EventPayload, default_codec
from resumeflow.domain.ids import new_id
from tests.factories import happy_history


def test_every_event_of_a_history_round_trips_through_json() -> None:
    codec = default_codec()
    for event in happy_history():
        assert codec.loads(codec.dumps(event)) == event


def test_the_stored_record_is_flat_and_names_a_type_we_own() -> None:
    event = happy_history(stages=0)[0]
    record = default_codec().encode(event)
    assert record["type"] == "application.received"
    assert record["schema_version"] == 1
    assert json.loads(json.dumps(record)) == record
    assert "resumeflow" not in json.dumps(record)  # no Python paths in the log


def test_times_are_aware_utc_even_when_given_another_offset() -> None:
    moment = datetime(2026, 12, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    event = EventEnvelope.new(
        application_id=uuid4(),
        version=1,
        payload=happy_history(stages=0)[0].payload,
        occurred_at=moment,
    )
    assert event.occurred_at.utcoffset() == timedelta(0)
    assert event.occurred_at == moment


def test_a_naive_stored_time_is_read_as_utc() -> None:
    codec = default_codec()
    record = codec.encode(happy_history(stages=0)[0])
    record["occurred_at"] = "2026-12-01T10:00:00"
    assert codec.decode(record).occurred_at == datetime(2026, 12, 1, 10, tzinfo=UTC)


class Renamed(EventPayload):
    """A payload at schema version 3; its field was ``mail`` in v1 and ``email_addr`` in v2."""

    type_name: ClassVar[str] = "test.renamed"
    schema_version: ClassVar[int] = 3
    email: str


def _v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    return {"email_addr": payload.pop("mail")}


def _v2_to_v3(payload: dict[str, Any]) -> dict[str, Any]:
    return {"email": payload.pop("email_addr")}


def _old_record(version: int, payload: dict[str, Any]) -> dict[str, Any]:
    event_id = new_id()
    return {
        "event_id": str(event_id),
        "application_id": str(uuid4()),
        "version": 1,
        "type": "test.renamed",
        "schema_version": version,
        "occurred_at": "2026-01-01T00:00:00+00:00",
        "correlation_id": str(event_id),
        "causation_id": None,
        "traceparent": None,
        "payload": payload,
    }


def test_old_schema_versions_are_upcast_step_by_step() -> None:
    codec = EventCodec(
        (Renamed,), upcasters={("test.renamed", 1): _v1_to_v2, ("test.renamed", 2): _v2_to_v3}
    )
    event = codec.decode(_old_record(1, {"mail": "a@b.org"}))
    assert isinstance(event.payload, Renamed) and event.payload.email == "a@b.org"
    assert event.schema_version == 3


def test_a_missing_upcaster_or_a_future_version_is_an_error() -> None:
    codec = EventCodec((Renamed,), upcasters={("test.renamed", 2): _v2_to_v3})
    with pytest.raises(UnknownEventType, match="no upcaster"):
        codec.decode(_old_record(1, {"mail": "a@b.org"}))
    with pytest.raises(UnknownEventType, match="newer"):
        codec.decode(_old_record(4, {"email": "a@b.org"}))


def test_an_unknown_type_is_an_error() -> None:
    with pytest.raises(UnknownEventType, match=r"test\.renamed"):
        default_codec().decode(_old_record(1, {}))


def test_ids_are_uuid7_and_increase() -> None:
    ids = [new_id() for _ in range(2000)]
    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
