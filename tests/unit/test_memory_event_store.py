from __future__ import annotations

import pytest

from resumeflow.domain.ports import EventStore
from resumeflow.eventstore.memory import InMemoryEventStore
from tests.contracts.event_store import EventStoreContract


class TestInMemoryEventStore(EventStoreContract):
    @pytest.fixture
    def store(self) -> EventStore:
        return InMemoryEventStore()
