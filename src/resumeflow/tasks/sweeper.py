"""The sweeper: finds applications stuck in a non-terminal state and sends their due stage again.

It learns what is open from the log, not from the messages: it follows the global feed from a
stored position and keeps a sorted set of open applications scored by the time of their last
event (a terminal event removes one). An application whose last event is older than
``stuck_after`` seconds lost its message somewhere (a killed worker past the visibility timeout,
a producer that died between append and send): its due stage is sent again and its score reset,
so it is not sent twice before another ``stuck_after`` passes. Sending twice is harmless anyway:
``run_stage`` is idempotent. A lock keeps two sweeps (two beat schedulers) from overlapping.
"""

from __future__ import annotations

import time
from collections import defaultdict
from uuid import UUID

from redis.asyncio import Redis

from resumeflow.domain.application import status_of
from resumeflow.domain.events import Stage
from resumeflow.pipeline.services import Services
from resumeflow.pipeline.stages import load_state

__all__ = ["CURSOR", "Sweeper"]

CURSOR = "sweeper"
"""The sweeper's name among the feed's cursors (eventstore/retention.py ``FeedCursors``)."""


class Sweeper:
    def __init__(
        self,
        services: Services,
        redis: Redis,
        *,
        prefix: str = "rf",
        stuck_after: float = 600.0,
        page_size: int = 1000,
        max_per_sweep: int = 5000,
    ) -> None:
        self._services = services
        self._redis = redis
        self.open_key = f"{prefix}:sweeper:open"
        # Its feed position is a registered cursor, which feed retention waits for.
        self.cursors_key = f"{prefix}:cursors"
        self.lock_key = f"{prefix}:sweeper:lock"
        self.stuck_after = stuck_after
        self.page_size = page_size
        self.max_per_sweep = max_per_sweep

    async def sweep(self, *, lock_seconds: float = 60.0) -> dict[Stage, list[UUID]]:
        """Catch up with the feed, then return the stuck applications by their due stage."""
        if not await self._redis.set(self.lock_key, "1", nx=True, px=int(lock_seconds * 1000)):
            return {}
        try:
            await self.follow_feed()
            return await self._stuck()
        finally:
            await self._redis.delete(self.lock_key)

    async def follow_feed(self) -> int:
        """Fold the feed since the stored position into the open set; returns events read."""
        raw = await self._redis.hget(self.cursors_key, CURSOR)
        position = raw.decode() if isinstance(raw, bytes) else raw
        read = 0
        while True:
            page = await self._services.events.read_feed(after=position, limit=self.page_size)
            if not page.events:
                return read
            last: dict[str, tuple[bool, float]] = {}
            for event in page.events:
                terminal = status_of(event.type).is_terminal
                last[str(event.application_id)] = (terminal, event.occurred_at.timestamp())
            opened = {app: at for app, (terminal, at) in last.items() if not terminal}
            closed = [app for app, (terminal, _) in last.items() if terminal]
            async with self._redis.pipeline(transaction=True) as pipe:
                if opened:
                    pipe.zadd(self.open_key, opened)
                if closed:
                    pipe.zrem(self.open_key, *closed)
                pipe.hset(self.cursors_key, CURSOR, page.position)
                await pipe.execute()
            position = page.position
            read += len(page.events)
            if len(page.events) < self.page_size:
                return read

    async def _stuck(self) -> dict[Stage, list[UUID]]:
        now = time.time()
        stuck = await self._redis.zrangebyscore(
            self.open_key, "-inf", now - self.stuck_after, start=0, num=self.max_per_sweep
        )
        due: dict[Stage, list[UUID]] = defaultdict(list)
        for member in stuck:
            app = UUID(member.decode() if isinstance(member, bytes) else str(member))
            try:
                state, _ = await load_state(self._services, app)
            except LookupError:
                await self._redis.zrem(self.open_key, str(app))
                continue
            if state.is_terminal or state.next_stage is None:
                await self._redis.zrem(self.open_key, str(app))
                continue
            due[state.next_stage].append(app)
            await self._redis.zadd(self.open_key, {str(app): now})
        return dict(due)
