"""A steady producer for the lag benchmark, run as its own process.

Why a process: appending 2,000 events per second in the projector's own event loop would add the
producer's work to the lag being measured.

    python -m resumeflow_dev.bench.producer REDIS_URL PREFIX PARTITIONS RATE SECONDS
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from resumeflow.domain.events import EventEnvelope
from resumeflow.eventstore.redis_client import create_redis
from resumeflow.eventstore.redis_streams import APPEND_SCRIPT, RedisStreamEventStore
from resumeflow.eventstore.wire import encode_entry
from resumeflow_dev.bench.histories import histories, interleaved

__all__ = ["produce"]


def _call(store: RedisStreamEventStore, event: EventEnvelope) -> list[Any]:
    """The append script's keys and arguments for one event, as the store sends them."""
    stream = store.stream_key(event.application_id)
    feed = store.feed_keys[store.partition_of(event.application_id)]
    blob = "\0".join(encode_entry(event))
    return [3, stream, f"{stream}:idx", feed, event.version - 1, 1, blob]


async def produce(redis_url: str, prefix: str, partitions: int, rate: int, seconds: float) -> None:
    """Append ``rate`` events per second for ``seconds``, in ticks of 10 ms.

    Every append is encoded before the clock starts and sent as the store's own append script
    (EVALSHA, pipelined per tick): on a small machine the producer shares the cores with the
    projector, and encoding 2,000 events/s as it went would be the load generator's work showing
    in the lag it measures. The log gets exactly what ``RedisStreamEventStore.append`` writes.
    """
    redis = create_redis(redis_url)
    store = RedisStreamEventStore(redis, partitions=partitions, prefix=prefix)
    per_tick = max(1, rate // 100)
    feed = interleaved(histories(int(rate * seconds / 7) + 1))[: int(rate * seconds)]
    ticks = [
        [_call(store, e) for e in feed[i : i + per_tick]] for i in range(0, len(feed), per_tick)
    ]
    sha = await redis.script_load(APPEND_SCRIPT)
    started = time.perf_counter()
    try:
        for tick, calls in enumerate(ticks):
            async with redis.pipeline(transaction=False) as pipe:
                for call in calls:
                    pipe.evalsha(sha, *call)
                for reply in await pipe.execute():
                    if reply[0] not in (b"ok", "ok"):
                        raise RuntimeError(f"append refused: {reply!r}")
            delay = started + (tick + 1) / 100 - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
    finally:
        await redis.aclose()


if __name__ == "__main__":
    url, prefix, partitions, rate, seconds = sys.argv[1:6]
    asyncio.run(produce(url, prefix, int(partitions), int(rate), float(seconds)))
