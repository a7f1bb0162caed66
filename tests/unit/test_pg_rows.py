"""The projector's Postgres records equal ``row_from_state``, column for column."""

from __future__ import annotations

import json
from typing import Any

from resumeflow.domain.application import ApplicationState, apply
from resumeflow.streams.pg_rows import COLUMNS, JSON_COLUMNS, record
from resumeflow.streams.projection import row_from_state
from tests.factories import happy_history


def _as_row(values: tuple[Any, ...]) -> dict[str, Any]:
    row = dict(zip(COLUMNS, values, strict=True))
    for column in JSON_COLUMNS:
        row[column] = json.loads(row[column]) if row[column] is not None else None
    return row


def test_every_record_along_a_history_equals_row_from_state() -> None:
    state: ApplicationState | None = None
    previous: tuple[ApplicationState, tuple[Any, ...]] | None = None
    for event in happy_history():
        state = apply(state, event)
        fresh = record(state)
        reused = record(state, previous)
        assert _as_row(fresh) == _as_row(reused) == row_from_state(state)
        previous = (state, reused)


def test_an_unchanged_json_value_is_reused_not_serialized_again() -> None:
    history = happy_history()
    state = None
    for event in history[:5]:  # through the embedding
        state = apply(state, event)
    assert state is not None
    first = record(state)
    after = apply(state, history[5])  # scored: the embedding object is carried over as is
    second = record(after, (state, first))
    index = COLUMNS.index("embedded_value")
    assert second[index] is first[index]
