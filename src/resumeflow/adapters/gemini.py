"""Gemini through google-genai (never the end-of-life google-generativeai): parser and embedder.

- The client is ``genai.Client`` with explicit ``HttpRetryOptions``: the SDK retries 408/429/5xx
  with exponential backoff and jitter (by default it retries nothing). What is still failing
  after those attempts becomes a retryable StageError, and the pipeline's own bounded retries
  take over, so the two layers stay small (a few attempts each) instead of multiplying.
- Structured output: ``response_schema`` is a pydantic model mirroring ParsedResume with lists
  (the API's schema has arrays, not tuples). Output that does not validate is asked for again a
  bounded number of times, then ends the application: ``malformed_llm_output`` is permanent.
- Every call first takes a token from the shared rate limit (one bucket for all workers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import aiohttp
from google import genai
from google.genai import errors, types
from pydantic import BaseModel, ValidationError

from resumeflow.domain.errors import StageError
from resumeflow.domain.resume import EducationEntry, Link, ParsedResume, WorkEntry

__all__ = ["GeminiEmbedder", "GeminiParser", "RateLimit", "make_client"]

RETRY_STATUS = [408, 429, 500, 502, 503, 504]
PROMPT = (
    "Extract the resume below into the JSON schema. Use only facts written in it; leave a field "
    "null (or a list empty) when the resume does not say. Dates as YYYY, YYYY-MM or YYYY-MM-DD.\n"
    "--- resume ---\n"
)


class RateLimit(Protocol):
    async def acquire(self) -> None: ...


def make_client(
    api_key: str,
    *,
    base_url: str | None = None,
    api_version: str | None = None,
    timeout_seconds: float = 60.0,
    attempts: int = 4,
    initial_delay: float = 1.0,
    max_delay: float = 20.0,
    jitter: float = 1.0,
) -> genai.Client:
    """A client whose HTTP layer makes at most ``attempts`` requests per call, retrying
    transient statuses after ``initial_delay * 2**n`` (capped at ``max_delay``) plus up to
    ``jitter`` seconds drawn at random. Close it with ``await client.aio.aclose()``."""
    options = types.HttpOptions(
        base_url=base_url,
        api_version=api_version,
        timeout=int(timeout_seconds * 1000),
        retry_options=types.HttpRetryOptions(
            attempts=attempts,
            initial_delay=initial_delay,
            max_delay=max_delay,
            exp_base=2,
            jitter=jitter,
            http_status_codes=RETRY_STATUS,
        ),
    )
    return genai.Client(api_key=api_key, http_options=options)


_NETWORK_ERRORS = (aiohttp.ClientError, OSError)  # OSError covers TimeoutError
"""What ``client.aio`` raises when no HTTP answer came: it sends through aiohttp whenever aiohttp
is importable, which aioboto3 guarantees here. The SDK retries these itself first."""


def translate(error: errors.APIError | aiohttp.ClientError | OSError) -> StageError:
    if not isinstance(error, errors.APIError):
        return StageError("llm_unavailable", f"{type(error).__name__}: {error}", retryable=True)
    code = int(error.code or 0)
    detail = f"{code} {error.status or ''}: {error.message or ''}".strip()
    if code == 429:
        return StageError("rate_limited", detail, retryable=True)
    if code >= 500 or code == 408:
        return StageError("llm_unavailable", detail, retryable=True)
    return StageError("llm_refused", detail, retryable=False)


class _Link(BaseModel):
    url: str
    network: str | None = None


class _Work(BaseModel):
    title: str | None = None
    employer: str | None = None
    start: str | None = None
    end: str | None = None
    current: bool = False
    summary: str | None = None


class _Education(BaseModel):
    institution: str | None = None
    area: str | None = None
    study_type: str | None = None
    start: str | None = None
    end: str | None = None


class ResumeSchema(BaseModel):
    """ParsedResume as the model is asked to write it."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    location: str | None = None
    links: list[_Link] = []
    summary: str | None = None
    skills: list[str] = []
    work: list[_Work] = []
    education: list[_Education] = []

    def to_domain(self) -> ParsedResume:
        return ParsedResume(
            name=self.name,
            email=self.email,
            phone=self.phone,
            location=self.location,
            links=tuple(Link(**link.model_dump()) for link in self.links),
            summary=self.summary,
            skills=tuple(dict.fromkeys(s.strip() for s in self.skills if s.strip())),
            work=tuple(WorkEntry(**entry.model_dump()) for entry in self.work),
            education=tuple(EducationEntry(**entry.model_dump()) for entry in self.education),
        )


class GeminiParser:
    """ResumeParser on a Gemini model with structured JSON output."""

    def __init__(
        self,
        client: genai.Client,
        *,
        model: str,
        limiter: RateLimit | None = None,
        output_attempts: int = 2,
    ) -> None:
        self._client = client
        self._limiter = limiter
        self.model = model
        self.name = f"gemini:{model}"
        self.output_attempts = output_attempts

    async def parse(self, text: str) -> ParsedResume:
        config = types.GenerateContentConfig(
            response_mime_type="application/json", response_schema=ResumeSchema, temperature=0
        )
        problem = ""
        for _ in range(self.output_attempts):
            if self._limiter is not None:
                await self._limiter.acquire()
            try:
                response = await self._client.aio.models.generate_content(
                    model=self.model, contents=PROMPT + text, config=config
                )
            except (errors.APIError, *_NETWORK_ERRORS) as error:
                raise translate(error) from error
            if isinstance(response.parsed, ResumeSchema):
                return response.parsed.to_domain()
            problem = _why_malformed(response.text)
        raise StageError(
            "malformed_llm_output",
            f"{self.output_attempts} answers did not fit the schema; last: {problem}",
            retryable=False,
        )


def _why_malformed(text: str | None) -> str:
    if not text:
        return "empty answer"
    try:
        ResumeSchema.model_validate_json(text)
    except ValidationError as error:
        return str(error.errors()[0]["msg"])[:200]
    return "unparsed answer"


class GeminiEmbedder:
    """Embedder on gemini-embedding-001 at a pinned dimensionality, L2-normalized here (only the
    full 3072-dimension output comes normalized from the API)."""

    version = "1"

    def __init__(
        self,
        client: genai.Client,
        *,
        model: str = "gemini-embedding-001",
        dimension: int = 768,
        limiter: RateLimit | None = None,
    ) -> None:
        self._client = client
        self._limiter = limiter
        self.model = model
        self.name = f"gemini:{model}"
        self.dimension = dimension

    async def embed(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        if not texts:
            return []  # the API refuses an empty batch; nothing to spend a token on
        if self._limiter is not None:
            await self._limiter.acquire()
        contents: list[types.Content] = [types.Content(parts=[types.Part(text=t)]) for t in texts]
        try:
            response = await self._client.aio.models.embed_content(
                model=self.model,
                contents=contents,
                config=types.EmbedContentConfig(
                    output_dimensionality=self.dimension, task_type="SEMANTIC_SIMILARITY"
                ),
            )
        except (errors.APIError, *_NETWORK_ERRORS) as error:
            raise translate(error) from error
        embeddings = response.embeddings or []
        if len(embeddings) != len(texts):
            raise StageError(
                "bad_embedding", f"{len(embeddings)} vectors for {len(texts)} texts", retryable=True
            )
        return [_normalized(e.values or [], self.dimension) for e in embeddings]


def _normalized(values: list[float], dimension: int) -> tuple[float, ...]:
    if len(values) != dimension:
        raise StageError(
            "bad_embedding", f"dimension {len(values)}, not {dimension}", retryable=False
        )
    norm = math.sqrt(sum(v * v for v in values))
    if norm == 0:
        raise StageError("bad_embedding", "a zero vector", retryable=False)
    return tuple(v / norm for v in values)
