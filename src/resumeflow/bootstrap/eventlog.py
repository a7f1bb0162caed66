"""The distributed mode's event log as every process opens it: Redis Streams, with the Postgres
archive behind it for applications whose streams have expired (projections/retention.py)."""

from __future__ import annotations

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.bootstrap.settings import Settings
from resumeflow.eventstore.redis_streams import RedisStreamEventStore
from resumeflow.eventstore.sql import SqlEventStore

__all__ = ["event_log"]


def event_log(settings: Settings, redis: Redis, engine: AsyncEngine) -> RedisStreamEventStore:
    return RedisStreamEventStore(
        redis,
        partitions=settings.log.stream_partitions,
        prefix=settings.log.stream_prefix,
        archive=SqlEventStore(engine),
    )
