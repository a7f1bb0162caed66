"""Local embedders: no model to download, vectors from the words and skills a text names.

``TermEmbedder`` (the default) hashes three kinds of features into a fixed-size vector:
content words (English function words and resume boilerplate dropped, plurals folded), the
canonical skills the taxonomy finds, and the broader skills those belong to (MySQL also counts
as SQL, React as JavaScript). Skills weigh more than words, so two texts about the same stack
land close even when they share few words, and a resume full of ordinary prose does not look
like every job post. It replaced a hashing of all words and word pairs, which rated unrelated
resumes as close as related ones; the figures are in docs/adr/0005-ocr-and-layout.md.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from functools import cache

from resumeflow.adapters.local.skills import broader_skills, find_skills

__all__ = ["TermEmbedder"]

_WORD = re.compile(r"[a-z0-9][a-z0-9+#.]*[a-z0-9+#]|[a-z0-9]")
_STOP_WORDS = """
a about above across after again all also am an and any are as at be been being both but by
can could did do does doing during each etc for from further had has have having he her here
hers him his how i if in into is it its itself just may me more most my no nor not of off on
once only or other our ours out over own per same she should so some such than that the
their them then there these they this those through to too under until up upon us very via
was we were what when where which while who whom why will with within without would you your
yours able across including using used use well new work worked working team teams years
year experience experienced strong excellent good great ability responsible role company
join looking seeking ideal candidate opportunity description job requirements
responsibilities plus etc e.g i.e
"""
_STOP = frozenset(_STOP_WORDS.split())
SKILL_WEIGHT = 3.0
FAMILY_WEIGHT = 1.5


def _features(text: str) -> dict[str, float]:
    counts: dict[str, float] = {}
    for word in _WORD.findall(text.casefold()):
        if word in _STOP or word.isdigit() or len(word) < 2:
            continue
        stem = (
            word[:-1] if word.endswith("s") and len(word) > 4 and not word.endswith("ss") else word
        )
        counts[stem] = counts.get(stem, 0.0) + 1.0
    features = {f"w:{word}": 1.0 + math.log(count) for word, count in counts.items()}
    for skill in find_skills(text):
        features[f"s:{skill}"] = SKILL_WEIGHT
        for family in broader_skills(skill):
            features.setdefault(f"s:{family}", FAMILY_WEIGHT)
    return features


@cache
def _slot(feature: str, dimension: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
    return int.from_bytes(digest[:4], "big") % dimension, 1.0 if digest[4] & 1 else -1.0


def _normalized(values: list[float]) -> tuple[float, ...]:
    norm = math.sqrt(sum(v * v for v in values))
    return tuple(v / norm for v in values) if norm else tuple(values)


class TermEmbedder:
    """Content words and taxonomy skills, hashed (signed) into ``dimension`` slots."""

    name = "local-terms"
    version = "1"

    def __init__(self, dimension: int = 512) -> None:
        self.dimension = dimension

    async def embed(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        return [self.vector(text) for text in texts]

    def vector(self, text: str) -> tuple[float, ...]:
        values = [0.0] * self.dimension
        for feature, weight in _features(text).items():
            index, sign = _slot(feature, self.dimension)
            values[index] += sign * weight
        return _normalized(values)
