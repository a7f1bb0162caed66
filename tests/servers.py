"""Real servers for integration tests, started by the tests themselves on free ports.

Why not the system services: a test must never touch data it did not create, and the durability
tests kill their server. The helpers live in ``resumeflow_dev.servers`` (the benchmarks' ``--spawn``
uses them too); this module is where tests import them from.
"""

from __future__ import annotations

from resumeflow_dev.servers import PostgresServer, RedisServer, free_port, wait_for_port

__all__ = ["PostgresServer", "RedisServer", "free_port", "wait_for_port"]
