"""GeminiParser and GeminiEmbedder: the real google-genai client against a local fake of the
Gemini REST API, so retries, status codes and the wire format are the SDK's own."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Iterator

import pytest
from google import genai

from resumeflow.adapters.gemini import GeminiEmbedder, GeminiParser, make_client
from resumeflow.domain.errors import StageError
from resumeflow.domain.resume import EducationEntry, Link, WorkEntry
from tests.fake_gemini import FakeGemini, embedding_reply, error_reply, text_reply

pytestmark = [
    pytest.mark.integration,
    # google-genai defines its aiohttp session as a ClientSession subclass, which aiohttp
    # deprecates; the warning is the SDK's, raised on every new session, and harmless here.
    pytest.mark.filterwarnings(
        "ignore:Inheritance class AiohttpClientSession from ClientSession is discouraged"
        ":DeprecationWarning"
    ),
]

MODEL = "gemini-2.5-flash"
ATTEMPTS = 3
RESUME = {
    "name": "Ada Lovelace",
    "email": "ada@example.org",
    "phone": None,
    "location": "London",
    "links": [{"url": "https://github.com/ada", "network": "GitHub"}],
    "summary": "Analyst of engines.",
    "skills": ["Python", " Python ", "Mathematics", ""],
    "work": [
        {
            "title": "Analyst",
            "employer": "Babbage & Co",
            "start": "1842",
            "end": None,
            "current": True,
            "summary": None,
        }
    ],
    "education": [{"institution": "Home", "area": "Mathematics", "start": "1830"}],
}


class CountingLimiter:
    def __init__(self) -> None:
        self.taken = 0

    async def acquire(self) -> None:
        self.taken += 1


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGemini]:
    with FakeGemini() as server:
        yield server


@pytest.fixture
def gemini(fake: FakeGemini) -> FakeGemini:
    """The module's fake with an empty script and no requests seen by this test yet."""
    fake.reset()
    return fake


@pytest.fixture
async def client(gemini: FakeGemini) -> AsyncIterator[genai.Client]:
    client = make_client(
        "test-key",
        base_url=gemini.url,
        timeout_seconds=5,
        attempts=ATTEMPTS,
        initial_delay=0.01,
        max_delay=0.02,
        jitter=0.0,
    )
    yield client
    await client.aio.aclose()
    client.close()


async def test_structured_json_becomes_a_parsed_resume(
    gemini: FakeGemini, client: genai.Client
) -> None:
    gemini.script(text_reply(json.dumps(RESUME)))
    limiter = CountingLimiter()
    parser = GeminiParser(client, model=MODEL, limiter=limiter)

    resume = await parser.parse("Ada Lovelace, London. Analyst at Babbage & Co since 1842.")

    assert resume.name == "Ada Lovelace"
    assert resume.email == "ada@example.org"
    assert resume.location == "London"
    assert resume.links == (Link(url="https://github.com/ada", network="GitHub"),)
    assert resume.skills == ("Python", "Mathematics")  # trimmed, deduplicated, blanks dropped
    assert resume.work == (
        WorkEntry(title="Analyst", employer="Babbage & Co", start="1842", current=True),
    )
    assert resume.education == (
        EducationEntry(institution="Home", area="Mathematics", start="1830"),
    )
    assert limiter.taken == 1
    [request] = gemini.requests
    assert (request.method, request.model) == ("generateContent", MODEL)
    assert request.headers["x-goog-api-key"] == "test-key"
    generation = request.body["generationConfig"]
    assert generation["responseMimeType"] == "application/json"
    assert "skills" in json.dumps(generation["responseSchema"])
    assert "Babbage & Co since 1842" in request.body["contents"][0]["parts"][0]["text"]


async def test_a_429_then_success_is_retried_by_the_client(
    gemini: FakeGemini, client: genai.Client
) -> None:
    gemini.script(error_reply(429), text_reply(json.dumps({"name": "Ada"})))

    resume = await GeminiParser(client, model=MODEL).parse("Ada")

    assert resume.name == "Ada"
    assert len(gemini.requests) == 2


async def test_5xx_until_the_attempts_run_out_is_a_retryable_error(
    gemini: FakeGemini, client: genai.Client
) -> None:
    gemini.script(fallback=error_reply(500))

    with pytest.raises(StageError) as raised:
        await GeminiParser(client, model=MODEL).parse("Ada")

    assert raised.value.reason == "llm_unavailable"
    assert raised.value.retryable
    assert len(gemini.requests) == ATTEMPTS


async def test_429_until_the_attempts_run_out_is_rate_limited(
    gemini: FakeGemini, client: genai.Client
) -> None:
    gemini.script(fallback=error_reply(429))

    with pytest.raises(StageError) as raised:
        await GeminiParser(client, model=MODEL).parse("Ada")

    assert (raised.value.reason, raised.value.retryable) == ("rate_limited", True)
    assert len(gemini.requests) == ATTEMPTS


async def test_a_400_is_permanent_and_not_retried(gemini: FakeGemini, client: genai.Client) -> None:
    gemini.script(fallback=error_reply(400, "bad schema"))

    with pytest.raises(StageError) as raised:
        await GeminiParser(client, model=MODEL).parse("Ada")

    assert (raised.value.reason, raised.value.retryable) == ("llm_refused", False)
    assert "bad schema" in raised.value.detail
    assert len(gemini.requests) == 1


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param('{"name": "Ada", "skills": [', id="invalid-json"),
        pytest.param('{"name": "Ada", "skills": "Python"}', id="schema-violating"),
        pytest.param('["Ada"]', id="not-an-object"),
    ],
)
async def test_malformed_output_is_asked_again_then_permanent(
    gemini: FakeGemini, client: genai.Client, answer: str
) -> None:
    gemini.script(fallback=text_reply(answer))
    limiter = CountingLimiter()
    parser = GeminiParser(client, model=MODEL, limiter=limiter, output_attempts=3)

    with pytest.raises(StageError) as raised:
        await parser.parse("Ada")

    assert (raised.value.reason, raised.value.retryable) == ("malformed_llm_output", False)
    assert len(gemini.requests) == 3
    assert limiter.taken == 3  # every request, including a repeated one, takes a token


async def test_malformed_then_valid_output_succeeds(
    gemini: FakeGemini, client: genai.Client
) -> None:
    gemini.script(text_reply("not json"), text_reply('{"name": "Ada"}'))

    resume = await GeminiParser(client, model=MODEL, output_attempts=2).parse("Ada")

    assert resume.name == "Ada"
    assert len(gemini.requests) == 2


async def test_an_unreachable_api_is_a_retryable_error() -> None:
    client = make_client(
        "test-key", base_url="http://127.0.0.1:9", attempts=2, initial_delay=0.01, jitter=0.0
    )
    try:
        with pytest.raises(StageError) as raised:
            await GeminiParser(client, model=MODEL).parse("Ada")
    finally:
        await client.aio.aclose()
        client.close()

    assert (raised.value.reason, raised.value.retryable) == ("llm_unavailable", True)


async def test_embedder_pins_the_dimension_and_normalizes(
    gemini: FakeGemini, client: genai.Client
) -> None:
    gemini.script(embedding_reply([[3.0, 4.0, 0.0, 0.0], [0.0, 0.0, 0.0, 2.0]]))
    limiter = CountingLimiter()
    embedder = GeminiEmbedder(client, dimension=4, limiter=limiter)

    vectors = await embedder.embed(["first text", "second text"])

    assert vectors == [(0.6, 0.8, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0)]
    assert all(math.isclose(math.hypot(*v), 1.0) for v in vectors)
    assert limiter.taken == 1
    [request] = gemini.requests
    assert (request.method, request.model) == ("batchEmbedContents", "gemini-embedding-001")
    sent = request.body["requests"]
    assert [r["content"]["parts"][0]["text"] for r in sent] == ["first text", "second text"]
    assert {r["outputDimensionality"] for r in sent} == {4}
    assert {r["model"] for r in sent} == {"models/gemini-embedding-001"}


async def test_embedder_refuses_a_vector_of_another_dimension(
    gemini: FakeGemini, client: genai.Client
) -> None:
    gemini.script(embedding_reply([[1.0, 0.0, 0.0]]))

    with pytest.raises(StageError) as raised:
        await GeminiEmbedder(client, dimension=4).embed(["text"])

    assert (raised.value.reason, raised.value.retryable) == ("bad_embedding", False)


async def test_embedder_maps_a_400_to_a_permanent_error(
    gemini: FakeGemini, client: genai.Client
) -> None:
    gemini.script(fallback=error_reply(400))

    with pytest.raises(StageError) as raised:
        await GeminiEmbedder(client, dimension=4).embed(["text"])

    assert raised.value.retryable is False
    assert len(gemini.requests) == 1


async def test_embedding_nothing_sends_nothing(gemini: FakeGemini, client: genai.Client) -> None:
    assert await GeminiEmbedder(client, dimension=4).embed([]) == []
    assert gemini.requests == []


async def test_embedder_retries_a_503(gemini: FakeGemini, client: genai.Client) -> None:
    gemini.script(error_reply(503), embedding_reply([[0.0, 2.0, 0.0, 0.0]]))

    vectors = await GeminiEmbedder(client, dimension=4).embed(["text"])

    assert vectors == [(0.0, 1.0, 0.0, 0.0)]
    assert len(gemini.requests) == 2
