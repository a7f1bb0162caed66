"""The EventStore contract: every implementation runs this same suite.

A subclass provides the ``store`` fixture (a fresh, empty store). Ids are unique per test, so no
test depends on another's leftovers.
"""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from resumeflow.domain.application import Status, fold
from resumeflow.domain.errors import ConcurrencyConflict, DuplicateEvent
from resumeflow.domain.events import Stage
from resumeflow.domain.ports import AppendBatch, EventStore
from tests.factories import envelope, happy_history, received_payload, success_payload


class EventStoreContract:
    @pytest.fixture
    def store(self) -> EventStore:
        raise NotImplementedError("a contract subclass provides the store")

    async def test_append_then_read_returns_the_history_in_order(self, store: EventStore) -> None:
        history = happy_history()
        app = history[0].application_id
        assert await store.append(app, history[:1], expected_version=0) == 1
        assert await store.append(app, history[1:], expected_version=1) == len(history)
        read = await store.read(app)
        assert [e.event_id for e in read] == [e.event_id for e in history]
        assert read == history
        folded = fold(read)
        assert folded is not None and folded.status is Status.COMPLETED

    async def test_read_after_version_returns_the_tail(self, store: EventStore) -> None:
        history = happy_history(stages=3)
        app = history[0].application_id
        await store.append(app, history, expected_version=0)
        tail = await store.read(app, after_version=2)
        assert [e.version for e in tail] == [3, 4]

    async def test_unknown_application_has_an_empty_history(self, store: EventStore) -> None:
        assert await store.read(uuid4()) == []

    async def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(
        self, store: EventStore
    ) -> None:
        history = happy_history(stages=2)
        app = history[0].application_id
        await store.append(app, history[:2], expected_version=0)
        rival = envelope(app, 2, success_payload(Stage.STORE))
        with pytest.raises(ConcurrencyConflict) as caught:
            await store.append(app, [rival], expected_version=1)
        assert (caught.value.expected, caught.value.actual) == (1, 2)
        assert [e.event_id for e in await store.read(app)] == [e.event_id for e in history[:2]]

    async def test_an_expected_version_ahead_of_the_stream_is_a_conflict(
        self, store: EventStore
    ) -> None:
        history = happy_history(stages=1)
        app = history[0].application_id
        with pytest.raises(ConcurrencyConflict):
            await store.append(app, history[1:], expected_version=1)
        assert await store.read(app) == []

    async def test_a_repeated_append_is_a_no_op(self, store: EventStore) -> None:
        history = happy_history(stages=2)
        app = history[0].application_id
        await store.append(app, history, expected_version=0)
        assert await store.append(app, history, expected_version=0) == 3
        assert len(await store.read(app)) == 3
        page = await store.read_feed(limit=10_000)
        assert sum(1 for e in page.events if e.application_id == app) == 3

    async def test_a_batch_partly_seen_before_is_refused_whole(self, store: EventStore) -> None:
        history = happy_history(stages=2)
        app = history[0].application_id
        await store.append(app, history[:2], expected_version=0)
        with pytest.raises(DuplicateEvent):
            await store.append(app, history[1:], expected_version=1)
        assert len(await store.read(app)) == 2

    async def test_batches_with_wrong_versions_are_refused(self, store: EventStore) -> None:
        app = uuid4()
        with pytest.raises(ValueError, match="version"):
            await store.append(app, [envelope(app, 2, received_payload())], expected_version=0)
        with pytest.raises(ValueError, match="at least one"):
            await store.append(app, [], expected_version=0)

    async def test_the_feed_holds_every_event_once_in_per_application_order(
        self, store: EventStore
    ) -> None:
        histories = [happy_history(stages=n % 4) for n in range(12)]
        for history in histories:
            await store.append(history[0].application_id, history, expected_version=0)
        mine = {h[0].application_id for h in histories}
        seen: list[tuple[object, int]] = []
        position: str | None = None
        while True:
            page = await store.read_feed(after=position, limit=7)
            if not page.events:
                break
            seen += [(e.application_id, e.version) for e in page.events if e.application_id in mine]
            position = page.position
        expected = {(h[0].application_id, e.version) for h in histories for e in h}
        assert len(seen) == len(expected) and set(seen) == expected
        for app in mine:
            versions = [v for a, v in seen if a == app]
            assert versions == sorted(versions)

    async def test_reading_the_feed_from_its_end_finds_only_new_events(
        self, store: EventStore
    ) -> None:
        first = happy_history(stages=1)
        await store.append(first[0].application_id, first, expected_version=0)
        position: str | None = None
        while (page := await store.read_feed(after=position, limit=1000)).events:
            position = page.position
        later = happy_history(stages=0)
        await store.append(later[0].application_id, later, expected_version=0)
        page = await store.read_feed(after=position)
        assert [e.event_id for e in page.events] == [later[0].event_id]

    async def test_racing_writers_one_wins_each_version(self, store: EventStore) -> None:
        history = happy_history(stages=0)
        app = history[0].application_id
        await store.append(app, history, expected_version=0)
        rivals = [envelope(app, 2, success_payload(Stage.STORE)) for _ in range(8)]
        results = await asyncio.gather(
            *(store.append(app, [r], expected_version=1) for r in rivals), return_exceptions=True
        )
        wins = [r for r in results if r == 2]
        assert len(wins) == 1
        assert all(isinstance(r, ConcurrencyConflict) for r in results if r != 2)
        assert len(await store.read(app)) == 2

    async def test_append_many_checks_each_batch_on_its_own(self, store: EventStore) -> None:
        fresh, stale, repeated, partial = (happy_history(stages=2) for _ in range(4))
        for history in (stale, repeated, partial):
            await store.append(history[0].application_id, history[:2], expected_version=0)
        rival = envelope(stale[0].application_id, 2, success_payload(Stage.STORE))
        outcomes = await store.append_many(
            [
                AppendBatch(fresh[0].application_id, fresh, 0),
                AppendBatch(stale[0].application_id, [rival], 1),
                AppendBatch(repeated[0].application_id, repeated[:2], 0),
                AppendBatch(partial[0].application_id, partial[1:], 1),
            ]
        )
        assert outcomes[0] == 3 and outcomes[2] == 2
        assert isinstance(outcomes[1], ConcurrencyConflict) and outcomes[1].actual == 2
        assert isinstance(outcomes[3], DuplicateEvent)
        assert await store.read(fresh[0].application_id) == fresh
        for history in (stale, repeated, partial):
            assert await store.read(history[0].application_id) == history[:2]

    async def test_append_many_applies_batches_of_one_application_in_order(
        self, store: EventStore
    ) -> None:
        history = happy_history(stages=4)
        app = history[0].application_id
        outcomes = await store.append_many(
            [AppendBatch(app, history[:2], 0), AppendBatch(app, history[2:], 2)]
        )
        assert outcomes == [2, 5]
        assert await store.read(app) == history
        page = await store.read_feed(limit=10_000)
        assert [e.version for e in page.events if e.application_id == app] == [1, 2, 3, 4, 5]

    async def test_append_many_refuses_a_malformed_batch_before_writing(
        self, store: EventStore
    ) -> None:
        good, bad = happy_history(stages=1), happy_history(stages=1)
        with pytest.raises(ValueError, match="version"):
            await store.append_many(
                [
                    AppendBatch(good[0].application_id, good, 0),
                    AppendBatch(bad[0].application_id, bad, 1),
                ]
            )
        assert await store.read(good[0].application_id) == []
