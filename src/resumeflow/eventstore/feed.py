"""A reader's position in the partitioned global feed, and the merge of one read across partitions.

The position is opaque to callers but readable by people: ``"4|1733040000000-0|0-0|...|..."``,
the partition count then the last entry id read from each partition, in partition order.
Invariant: a position only moves forward, partition by partition, and only past entries that were
returned, so following it yields every entry exactly once and each partition in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Entry", "FeedPosition", "merge_feed"]

Entry = tuple[bytes, dict[bytes, bytes]]
"""One stream entry as redis-py returns it (responses not decoded)."""


def _id_key(entry_id: bytes | str) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


@dataclass(frozen=True, slots=True)
class FeedPosition:
    ids: tuple[str, ...]

    @classmethod
    def start(cls, partitions: int) -> FeedPosition:
        return cls(("0-0",) * partitions)

    @classmethod
    def parse(cls, text: str | None, partitions: int) -> FeedPosition:
        if not text:
            return cls.start(partitions)
        count, *ids = text.split("|")
        if int(count) != partitions or len(ids) != partitions:
            raise ValueError(
                f"feed position {text!r} is for {count} partitions; this feed has {partitions}"
            )
        for entry_id in ids:
            _id_key(entry_id)  # refuses garbage early, with a clear ValueError
        return cls(tuple(ids))

    def render(self) -> str:
        return "|".join((str(len(self.ids)), *self.ids))


def merge_feed(
    keys: Sequence[str],
    reply: Sequence[tuple[bytes, Sequence[Entry]]] | None,
    position: FeedPosition,
    limit: int,
) -> tuple[list[Entry], FeedPosition]:
    """The oldest ``limit`` entries of an XREAD over all partitions, and the position after them.

    Entry ids are times, so ordering by id interleaves partitions roughly in append time; order
    across applications is not guaranteed by the feed's contract, only within one.
    """
    index = {key: n for n, key in enumerate(keys)}
    candidates: list[tuple[tuple[int, int], int, Entry]] = []
    for stream, entries in reply or ():
        partition = index[stream.decode()]
        candidates += [(_id_key(entry[0]), partition, entry) for entry in entries]
    candidates.sort(key=lambda c: (c[0], c[1]))
    taken = candidates[:limit]
    ids = list(position.ids)
    for _, partition, entry in taken:  # ascending, so the last one per partition wins
        ids[partition] = entry[0].decode()
    return [entry for _, _, entry in taken], FeedPosition(tuple(ids))
