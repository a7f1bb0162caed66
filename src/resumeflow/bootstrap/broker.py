"""The Redis broker transport, made to ride out a restart of Redis.

kombu 5.7's Redis channel hands its unacknowledged messages back to the queue when it closes. When
the consumer closes a connection that Redis dropped, that hand-back runs after the transport
has let go of its connection info and raises ``AttributeError`` (``'NoneType' object has no
attribute 'hostname'``; celery/kombu#582, #970). The error escapes Celery's cleanup and the whole
worker exits ("Unrecoverable error") instead of reconnecting. A task that finishes after the
reconnect then acks through the old, closed channel, and that raises the same way.

Neither needs to happen there: the Redis transport keeps every delivered, unacked message in
Redis itself (the ``unacked`` hash and its index), and a worker hands those out again once they
are ``visibility_timeout`` old; a stage run again is a no-op (the log shows it done). So on a
closed channel these are skipped with a warning and the worker goes on. A warm shutdown, with
the broker up, still hands messages back at once.
"""

from __future__ import annotations

import logging
from typing import Any

from kombu.transport import redis as kombu_redis

__all__ = ["TRANSPORT", "RedisTransport"]

TRANSPORT = f"{__name__}:RedisTransport"
"""The class path for Celery's ``broker_transport`` setting."""

log = logging.getLogger(__name__)
_UNREACHABLE = (AttributeError, *kombu_redis.get_redis_error_classes().connection_errors)  # type: ignore[no-untyped-call]


class _QoS(kombu_redis.QoS):
    """Acks, rejects and the hand-back at close that find their channel already closed (the
    connection was lost and replaced) are left to the visibility timeout, with a warning."""

    def _closed(self, what: str, error: BaseException) -> None:
        if not self.channel.closed:
            raise error
        log.warning(
            "%s on a channel closed by a lost broker connection (%r): the message is handed "
            "out again after the visibility timeout instead",
            what,
            error,
        )

    def restore_unacked_once(self, stderr: Any = None) -> Any:
        try:
            return super().restore_unacked_once(stderr)  # type: ignore[no-untyped-call]
        except _UNREACHABLE as error:
            self._closed(f"handing back {len(self._delivered)} unacked messages", error)
            return None

    def ack(self, delivery_tag: Any) -> None:
        try:
            super().ack(delivery_tag)  # type: ignore[no-untyped-call]
        except _UNREACHABLE as error:
            self._closed("an ack", error)

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        try:
            super().reject(delivery_tag, requeue=requeue)  # type: ignore[no-untyped-call]
        except _UNREACHABLE as error:
            self._closed("a reject", error)


class _Channel(kombu_redis.Channel):
    QoS = _QoS


class RedisTransport(kombu_redis.Transport):
    Channel = _Channel
