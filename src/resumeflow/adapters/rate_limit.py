"""A token bucket in Redis: one rate limit for every worker process on every machine.

Gemini's limits are per project, so a per-process limiter would multiply the allowance by the
number of workers. The bucket lives in one Redis hash, refilled continuously at
``per_minute / 60`` tokens a second up to ``burst``; a Lua script takes a token atomically and,
when none is left, answers how long until one will be, using the server's clock so that the
workers' clocks need not agree. No library kept for redis-py asyncio does this (the maintained
ones are per-process or synchronous), and the script is twenty lines.
"""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from resumeflow.domain.errors import StageError
from resumeflow.metrics import RATE_LIMIT_WAIT

__all__ = ["RedisTokenBucket"]

_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or t
tokens = math.min(burst, tokens + math.max(0, t - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(t))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return wait
"""


class RedisTokenBucket:
    """``acquire`` waits for a token; it gives up with a retryable StageError after
    ``max_wait_seconds`` so a starved stage is retried later instead of holding a worker."""

    def __init__(
        self,
        redis: Redis,
        *,
        key: str,
        per_minute: int,
        burst: int | None = None,
        max_wait_seconds: float = 30.0,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self._redis = redis
        self._script = redis.register_script(_TAKE)
        self.key = key
        self.rate = per_minute / 60.0
        self.burst = burst if burst is not None else max(1, per_minute // 6)
        self.max_wait_seconds = max_wait_seconds

    async def acquire(self) -> None:
        began = time.monotonic()
        deadline = began + self.max_wait_seconds
        while True:
            wait_ms = int(await self._script(keys=[self.key], args=[self.rate, self.burst]))
            if wait_ms <= 0:
                RATE_LIMIT_WAIT.observe(time.monotonic() - began)
                return
            if time.monotonic() + wait_ms / 1000 > deadline:
                raise StageError(
                    "rate_limited",
                    f"no token in {self.key} within {self.max_wait_seconds} s",
                    retryable=True,
                )
            await asyncio.sleep(wait_ms / 1000)
