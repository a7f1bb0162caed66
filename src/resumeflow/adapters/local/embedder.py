"""A deterministic embedder: feature hashing of words and word pairs, no model to download.

Good enough to rank texts that share vocabulary; its name and version are recorded with every
vector so vectors from different embedders are never compared by accident.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from itertools import pairwise

__all__ = ["HashingEmbedder"]

_WORD = re.compile(r"[a-z0-9][a-z0-9+#.]*[a-z0-9+#]|[a-z0-9]")


class HashingEmbedder:
    name = "local-hashing"
    version = "1"

    def __init__(self, dimension: int = 256) -> None:
        self.dimension = dimension

    async def embed(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        return [self.vector(text) for text in texts]

    def vector(self, text: str) -> tuple[float, ...]:
        words = _WORD.findall(text.casefold())
        counts: dict[str, int] = {}
        for feature in words + [f"{a} {b}" for a, b in pairwise(words)]:
            counts[feature] = counts.get(feature, 0) + 1
        values = [0.0] * self.dimension
        for feature, count in counts.items():
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "big") % self.dimension
            sign = 1.0 if digest[4] & 1 else -1.0
            values[index] += sign * (1.0 + math.log(count))
        norm = math.sqrt(sum(v * v for v in values))
        return tuple(v / norm for v in values) if norm else tuple(values)
