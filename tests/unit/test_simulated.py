"""The latency-simulating stand-ins compute each distinct answer once (the real services' compute
is not the workers'), answer every caller alike, and keep a bounded number of answers."""

from __future__ import annotations

from collections.abc import Sequence

from resumeflow.adapters.simulated import LatencyEmbedder, LatencyParser
from resumeflow.domain.resume import ParsedResume


class CountingParser:
    name = "counting"

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def parse(self, text: str) -> ParsedResume:
        self.calls.append(text)
        return ParsedResume(name=text.splitlines()[0])


class CountingEmbedder:
    name = "counting"
    version = "1"
    dimension = 2

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    async def embed(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        self.calls.append(tuple(texts))
        return [(float(len(t)), 1.0) for t in texts]


async def test_the_parser_stand_in_parses_each_distinct_text_once() -> None:
    inner = CountingParser()
    parser = LatencyParser(inner, seconds=0)
    first = await parser.parse("Ada Lovelace\nPython")
    again = await parser.parse("Ada Lovelace\nPython")
    other = await parser.parse("Grace Hopper\nCOBOL")
    assert first == again and first.name == "Ada Lovelace" and other.name == "Grace Hopper"
    assert inner.calls == ["Ada Lovelace\nPython", "Grace Hopper\nCOBOL"]


async def test_the_embedder_stand_in_hands_each_caller_its_own_list() -> None:
    inner = CountingEmbedder()
    embedder = LatencyEmbedder(inner, seconds=0)
    first = await embedder.embed(["abc", "de"])
    first.append((0.0, 0.0))  # a caller changing its list changes nobody else's
    assert await embedder.embed(["abc", "de"]) == [(3.0, 1.0), (2.0, 1.0)]
    assert inner.calls == [("abc", "de")]


async def test_answers_are_bounded_and_the_oldest_is_computed_again() -> None:
    inner = CountingParser()
    parser = LatencyParser(inner, seconds=0)
    texts = [f"Applicant {n}" for n in range(257)]  # one more than the stand-ins keep
    for text in texts:
        await parser.parse(text)
    await parser.parse(texts[-1])  # still kept
    await parser.parse(texts[0])  # evicted: parsed again
    assert inner.calls == [*texts, texts[0]]
