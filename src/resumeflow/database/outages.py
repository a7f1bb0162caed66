"""Is this error a server that did not answer (Postgres or Redis down, restarting, unreachable)
rather than something wrong with the request? Such a failure is waited out, never blamed on an
application or an event."""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError

__all__ = ["is_server_outage"]

_CONNECTION_LEVEL = (
    ConnectionError,  # refused, reset, broken pipe
    RedisConnectionError,
    RedisTimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
)


def is_server_outage(error: BaseException | None) -> bool:
    """True for connection-level failures, also when wrapped (SQLAlchemy's ``orig``, a cause)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, _CONNECTION_LEVEL):
            return True
        if isinstance(error, DBAPIError):
            if error.connection_invalidated:
                return True
            error = error.orig if isinstance(error.orig, BaseException) else error.__cause__
        else:
            error = error.__cause__
    return False
