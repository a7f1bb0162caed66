"""The application's state machine and fold, by example and by property."""

from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resumeflow.domain.application import ApplicationState, Status, apply, fold, status_of
from resumeflow.domain.errors import IllegalTransition
from resumeflow.domain.events import (
    ApplicationFailed,
    ApplicationRetried,
    EventEnvelope,
    EventPayload,
    Stage,
    StageFailed,
)
from tests.factories import (
    HAPPY_PATH,
    envelope,
    failure_payloads,
    happy_history,
    received_payload,
    retried_payload,
    success_payload,
)


def test_the_happy_path_ends_completed_with_every_fact_recorded() -> None:
    state = fold(happy_history())
    assert state is not None
    assert state.status is Status.COMPLETED and state.is_terminal
    assert state.version == 7 and state.next_stage is None
    assert state.blob_key and state.text and state.resume and state.embedding and state.score


def test_each_success_event_makes_the_next_stage_due() -> None:
    history = happy_history()
    state = None
    dues = []
    for event in history:
        state = apply(state, event)
        dues.append(state.next_stage)
    assert dues == [*HAPPY_PATH, None]


def test_a_history_must_open_with_received() -> None:
    app = uuid4()
    with pytest.raises(IllegalTransition, match="must open"):
        apply(None, envelope(app, 1, success_payload(Stage.STORE)))


def test_a_stage_out_of_order_is_refused() -> None:
    history = happy_history(stages=1)  # received, stored
    state = fold(history)
    app = history[0].application_id
    with pytest.raises(IllegalTransition, match="parse"):
        apply(state, envelope(app, 3, success_payload(Stage.PARSE)))


def test_a_version_gap_is_refused() -> None:
    history = happy_history(stages=1)
    with pytest.raises(IllegalTransition, match="does not follow"):
        apply(fold(history), envelope(history[0].application_id, 4, success_payload(Stage.EXTRACT)))


def test_nothing_follows_completed() -> None:
    history = happy_history()
    app = history[0].application_id
    with pytest.raises(IllegalTransition):
        apply(fold(history), envelope(app, 8, retried_payload()))


def test_failure_then_retry_makes_the_failed_stage_due_again() -> None:
    history = happy_history(stages=2)  # due: parse
    app = history[0].application_id
    for payload in failure_payloads(Stage.PARSE):
        history.append(envelope(app, len(history) + 1, payload))
    failed = fold(history)
    assert failed is not None
    assert (failed.status, failed.failure_stage, failed.failure_reason) == (
        Status.FAILED,
        Stage.PARSE,
        "unreadable",
    )
    with pytest.raises(IllegalTransition, match="failed"):
        apply(failed, envelope(app, failed.version + 1, success_payload(Stage.PARSE)))
    retried = apply(failed, envelope(app, failed.version + 1, retried_payload()))
    assert retried.status is Status.RETRIED and retried.next_stage is Stage.PARSE
    assert retried.failure_reason is None and retried.attempts == 0


def test_a_non_retryable_stage_failure_must_be_followed_by_failed() -> None:
    history = happy_history(stages=0)
    app = history[0].application_id
    history.append(
        envelope(
            app, 2, StageFailed(stage=Stage.STORE, attempt=1, retryable=False, reason="upload_lost")
        )
    )
    state = fold(history)
    with pytest.raises(IllegalTransition, match="non-retryable"):
        apply(state, envelope(app, 3, success_payload(Stage.STORE)))
    assert apply(
        state, envelope(app, 3, ApplicationFailed(stage=Stage.STORE, reason="x"))
    ).is_terminal


def test_attempts_must_count_up() -> None:
    history = happy_history(stages=0)
    app = history[0].application_id
    with pytest.raises(IllegalTransition, match="attempt 2"):
        apply(
            fold(history),
            envelope(
                app, 2, StageFailed(stage=Stage.STORE, attempt=2, retryable=True, reason="timeout")
            ),
        )


def test_an_event_of_another_application_is_refused() -> None:
    state = fold(happy_history(stages=0))
    with pytest.raises(IllegalTransition, match="applied to"):
        apply(state, envelope(uuid4(), 2, success_payload(Stage.STORE)))


# ---- properties -------------------------------------------------------------------------------


def _legal_payloads(state: ApplicationState | None) -> list[EventPayload]:
    """An oracle written from the rules in the module docstring, independently of ``apply``."""
    if state is None:
        return [received_payload()]
    if state.status is Status.COMPLETED:
        return []
    if state.status is Status.FAILED:
        return [ApplicationRetried()]
    stage = state.next_stage
    assert stage is not None
    if state.awaiting_failure:
        return [ApplicationFailed(stage=stage, reason="bad_input")]
    return [
        success_payload(stage),
        StageFailed(stage=stage, attempt=state.attempts + 1, retryable=True, reason="timeout"),
        StageFailed(stage=stage, attempt=state.attempts + 1, retryable=False, reason="bad_input"),
        ApplicationFailed(stage=stage, reason="retries_exhausted"),
    ]


ALL_PAYLOADS: list[EventPayload] = [
    received_payload(),
    *(success_payload(stage) for stage in HAPPY_PATH),
    *(
        StageFailed(stage=stage, attempt=n, retryable=r, reason="x")
        for stage in HAPPY_PATH
        for n in (1, 2)
        for r in (True, False)
    ),
    *(ApplicationFailed(stage=stage, reason="x") for stage in HAPPY_PATH),
    ApplicationRetried(),
]


@st.composite
def legal_histories(draw: st.DrawFn) -> list[EventEnvelope]:
    app = uuid4()
    events: list[EventEnvelope] = []
    state: ApplicationState | None = None
    for _ in range(draw(st.integers(min_value=1, max_value=30))):
        options = _legal_payloads(state)
        if not options:
            break
        payload = draw(st.sampled_from(options))
        event = envelope(app, len(events) + 1, payload)
        state = apply(state, event)
        events.append(event)
    return events


@settings(max_examples=300, deadline=None)
@given(legal_histories())
def test_any_legal_history_folds_to_the_state_its_last_event_names(
    history: list[EventEnvelope],
) -> None:
    state = fold(history)
    assert state is not None
    assert state.status is status_of(history[-1].type)
    assert state.version == len(history)
    assert (state.next_stage is None) == state.is_terminal


@settings(max_examples=300, deadline=None)
@given(legal_histories(), st.sampled_from(ALL_PAYLOADS))
def test_an_event_the_rules_do_not_allow_is_refused(
    history: list[EventEnvelope], payload: EventPayload
) -> None:
    state = fold(history)
    event = envelope(history[0].application_id, len(history) + 1, payload)
    if _rule_key(payload) in {_rule_key(p) for p in _legal_payloads(state)}:
        assert apply(state, event).version == len(history) + 1
    else:
        with pytest.raises(IllegalTransition):
            apply(state, event)


def _rule_key(payload: EventPayload) -> tuple[object, ...]:
    """What the rules look at in a payload (reasons and details are free text)."""
    if isinstance(payload, StageFailed):
        return (StageFailed, payload.stage, payload.attempt, payload.retryable)
    if isinstance(payload, ApplicationFailed):
        return (ApplicationFailed, payload.stage)
    return (type(payload),)
