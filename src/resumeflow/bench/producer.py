"""A steady producer for the lag benchmark, run as its own process.

Why a process: appending 2,000 events per second in the projector's own event loop would add the
producer's work to the lag being measured.

    python -m resumeflow.bench.producer REDIS_URL PREFIX PARTITIONS RATE SECONDS
"""

from __future__ import annotations

import asyncio
import sys
import time

from resumeflow.bench.histories import histories, interleaved
from resumeflow.domain.ports import AppendBatch
from resumeflow.streams.redis_client import create_redis
from resumeflow.streams.redis_store import RedisStreamEventStore

__all__ = ["produce"]


async def produce(redis_url: str, prefix: str, partitions: int, rate: int, seconds: float) -> None:
    """Append ``rate`` events per second for ``seconds``, in ticks of 10 ms.

    Every tick's append is checked and encoded before the clock starts: on a small machine the
    producer shares the cores with the projector, and encoding 2,000 events/s as it went cost a
    third of a core (the lag measured the load generator's work). Redis runs the same append
    script per batch either way.
    """
    redis = create_redis(redis_url)
    store = RedisStreamEventStore(redis, partitions=partitions, prefix=prefix)
    per_tick = max(1, rate // 100)
    feed = interleaved(histories(int(rate * seconds / 7) + 1))[: int(rate * seconds)]
    ticks = [
        store.prepare([AppendBatch(e.application_id, [e], e.version - 1) for e in chunk])
        for chunk in (feed[start : start + per_tick] for start in range(0, len(feed), per_tick))
    ]
    started = time.perf_counter()
    try:
        for tick, prepared in enumerate(ticks):
            await store.append_prepared(prepared)
            delay = started + (tick + 1) / 100 - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
    finally:
        await redis.aclose()


if __name__ == "__main__":
    url, prefix, partitions, rate, seconds = sys.argv[1:6]
    asyncio.run(produce(url, prefix, int(partitions), int(rate), float(seconds)))
