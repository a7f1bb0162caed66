"""Identifiers: UUIDv7 for events and applications (time-ordered, RFC 9562).

The standard library gains ``uuid.uuid7`` in Python 3.14; until then we build it here, since the
domain imports nothing outside the standard library and pydantic.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

__all__ = ["new_id"]

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def new_id() -> uuid.UUID:
    """A UUIDv7, monotonic within this process (a 12-bit counter orders ids in one ms)."""
    native = getattr(uuid, "uuid7", None)
    if native is not None:  # Python 3.14+
        value: uuid.UUID = native()
        return value
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            _counter += 1
            if _counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                _last_ms += 1
                _counter = 0
            ms = _last_ms
        else:
            _last_ms = ms
            _counter = 0
        counter = _counter
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value_int = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand
    return uuid.UUID(int=value_int)
