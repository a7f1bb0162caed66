"""Integration fixtures: real servers the tests start themselves, never the system's.

One redis-server per session; tests stay independent by using unique key prefixes (and stream
names, group names) instead of flushing, so they may run in any order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from uuid import uuid4

import pytest
from redis.asyncio import Redis

from resumeflow.eventstore.redis_client import create_redis
from tests.servers import RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = create_redis(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
def key_prefix() -> str:
    """A prefix no other test uses: the test's own namespace on the shared server."""
    return f"t{uuid4().hex[:12]}"
