"""RedisTokenBucket against a real redis-server: one allowance shared by every worker."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio import Redis

from resumeflow.adapters.rate_limit import RedisTokenBucket
from resumeflow.domain.errors import StageError

pytestmark = pytest.mark.integration


def bucket(redis: Redis, key: str, *, max_wait_seconds: float = 0.2) -> RedisTokenBucket:
    """60 a minute (one a second) with a burst of 5."""
    return RedisTokenBucket(
        redis, key=key, per_minute=60, burst=5, max_wait_seconds=max_wait_seconds
    )


async def test_the_burst_is_granted_then_the_next_is_refused(redis: Redis, key_prefix: str) -> None:
    limiter = bucket(redis, f"{key_prefix}:gemini")

    for _ in range(5):
        await limiter.acquire()
    with pytest.raises(StageError) as raised:
        await limiter.acquire()

    assert (raised.value.reason, raised.value.retryable) == ("rate_limited", True)


async def test_a_waiter_gets_the_next_token_after_about_a_second(
    redis: Redis, key_prefix: str
) -> None:
    limiter = bucket(redis, f"{key_prefix}:gemini", max_wait_seconds=3.0)
    for _ in range(5):
        await limiter.acquire()

    started = time.monotonic()
    await limiter.acquire()
    waited = time.monotonic() - started

    assert 0.7 <= waited < 2.5  # one token a second; the bound below is the one that matters


async def test_two_workers_share_one_allowance(redis: Redis, key_prefix: str) -> None:
    key = f"{key_prefix}:gemini"
    first, second = bucket(redis, key), bucket(redis, key)

    for _ in range(3):
        await first.acquire()
    for _ in range(2):
        await second.acquire()

    for worker in (first, second):
        with pytest.raises(StageError):
            await worker.acquire()


async def test_concurrent_acquires_never_exceed_the_burst(redis: Redis, key_prefix: str) -> None:
    key = f"{key_prefix}:gemini"
    workers = [bucket(redis, key, max_wait_seconds=0.0) for _ in range(4)]

    outcomes = await asyncio.gather(
        *(w.acquire() for w in workers for _ in range(5)), return_exceptions=True
    )

    granted = [o for o in outcomes if o is None]
    refused = [o for o in outcomes if isinstance(o, StageError)]
    assert (len(granted), len(refused)) == (5, 15)


async def test_other_keys_have_their_own_allowance(redis: Redis, key_prefix: str) -> None:
    busy = bucket(redis, f"{key_prefix}:busy")
    for _ in range(5):
        await busy.acquire()

    await bucket(redis, f"{key_prefix}:idle").acquire()  # not refused


async def test_the_bucket_key_expires_once_full_again(redis: Redis, key_prefix: str) -> None:
    key = f"{key_prefix}:gemini"
    await bucket(redis, key).acquire()

    ttl_ms = await redis.pttl(key)

    assert 0 < ttl_ms <= 6000  # refilled in burst / rate = 5 s, plus a second


async def test_a_rate_below_one_a_minute_is_refused(redis: Redis) -> None:
    with pytest.raises(ValueError, match="per_minute"):
        RedisTokenBucket(redis, key="k", per_minute=0)
