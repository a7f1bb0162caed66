"""Start-up check of the Redis settings the event log depends on (docs/operations/redis.md).

Why at start-up and only as warnings: a misconfigured server works until the day it evicts a
stream under memory pressure or restarts empty, and then events are silently gone. The service
can still run (development, tests), so it says so loudly in the log instead of refusing to start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from redis.asyncio import Redis
from redis.exceptions import ResponseError

__all__ = ["DurabilityReport", "check_durability"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DurabilityReport:
    version: str
    appendonly: str
    appendfsync: str
    save: str
    maxmemory: int
    maxmemory_policy: str
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


async def _config(redis: Redis, name: str) -> str:
    reply = await redis.config_get(name)
    value = reply.get(name, reply.get(name.encode(), ""))  # type: ignore[call-overload]
    return value.decode() if isinstance(value, bytes) else str(value)


def _problems(report: DurabilityReport) -> tuple[str, ...]:
    problems = []
    if report.maxmemory_policy != "noeviction":
        problems.append(
            f"maxmemory-policy is {report.maxmemory_policy!r} (maxmemory {report.maxmemory} "
            "bytes): the server may EVICT event streams; set maxmemory-policy noeviction"
        )
    if report.appendonly != "yes" and not report.save.strip():
        problems.append(
            "appendonly is no and save is empty: the server KEEPS NOTHING ON DISK and a restart "
            "loses every event; set appendonly yes (appendfsync everysec)"
        )
    elif report.appendonly != "yes":
        problems.append(
            f"appendonly is no (RDB snapshots only, save {report.save!r}): a crash loses the "
            "events since the last snapshot; set appendonly yes (appendfsync everysec)"
        )
    elif report.appendfsync == "no":
        problems.append(
            "appendfsync is no: the OS decides when the AOF reaches the disk (about 30 s); "
            "set appendfsync everysec"
        )
    return tuple(problems)


async def check_durability(redis: Redis, *, log: logging.Logger = logger) -> DurabilityReport:
    """Read the server's persistence and eviction settings; log a WARNING for each problem.

    A server that refuses CONFIG GET (some managed services) is reported as a problem too, since
    nothing can then be said about its durability.
    """
    info = await redis.info("server")
    version = str(info.get("redis_version", "?"))
    try:
        values = {
            name: await _config(redis, name)
            for name in ("appendonly", "appendfsync", "save", "maxmemory", "maxmemory-policy")
        }
    except ResponseError as error:
        problem = f"cannot read the Redis configuration ({error}); durability is unknown"
        log.warning("Redis %s: %s", version, problem)
        return DurabilityReport(version, "?", "?", "?", 0, "?", problems=(problem,))
    report = DurabilityReport(
        version=version,
        appendonly=values["appendonly"],
        appendfsync=values["appendfsync"],
        save=values["save"],
        maxmemory=int(values["maxmemory"] or 0),
        maxmemory_policy=values["maxmemory-policy"],
    )
    report = replace(report, problems=_problems(report))
    for problem in report.problems:
        log.warning("Redis %s: %s", version, problem)
    if report.ok:
        log.info("Redis %s: durable settings (AOF %s, noeviction)", version, report.appendfsync)
    return report
