"""The one factory of redis-py clients for the event log: retries that ride out a server restart.

Why retries are safe for appends: an append that reached the server but whose reply was lost is
retried with the same event ids, and the store's deduplication turns the second attempt into a
no-op that returns the current version. So a client can retry every command it sends.
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import BusyLoadingError, ConnectionError, TimeoutError

__all__ = ["RETRY_ATTEMPTS", "create_redis"]

RETRY_ATTEMPTS = 12
"""With a 50 ms base and a 1 s cap, about 8 s of retrying: longer than a restart with AOF load."""


def create_redis(
    url: str,
    *,
    retries: int = RETRY_ATTEMPTS,
    backoff_base: float = 0.05,
    backoff_cap: float = 1.0,
    socket_timeout: float = 5.0,
    max_connections: int = 64,
) -> Redis:
    """A client for ``url`` (nothing connects until the first command).

    Connection errors, timeouts and "loading the dataset" replies are retried with exponential
    backoff and full jitter, on a fresh connection each time; the caller only sees an error when
    the server stays away for the whole retry budget. Responses are bytes (no decoding), which
    the wire mapper handles and which keeps payloads byte-exact. The pool blocks a caller
    (up to ``socket_timeout``) while all ``max_connections`` are busy instead of failing, so a
    burst of concurrent appends queues rather than errors.
    """
    retry = Retry(
        ExponentialWithJitterBackoff(base=backoff_base, cap=backoff_cap),
        retries,
        supported_errors=(ConnectionError, TimeoutError, BusyLoadingError),
    )
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=socket_timeout,
        retry=retry,
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_timeout,
        socket_keepalive=True,
        health_check_interval=30,
    )
    return Redis.from_pool(pool)
