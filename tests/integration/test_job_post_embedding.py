"""A job post is embedded once and the stored vector is reused by every application of it:
the real google-genai client against the local Gemini fake (which records every request), on
real SQLite (the embedded mode) and a real Postgres (the distributed mode, through the workers'
cached repository, one per worker in these tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from google import genai
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.adapters.gemini import GeminiEmbedder, make_client
from resumeflow.adapters.local.blobs import FileSystemBlobStore
from resumeflow.adapters.local.extraction import LocalTextExtractor
from resumeflow.adapters.local.parser import LocalResumeParser
from resumeflow.bootstrap.distributed import CachedJobPosts
from resumeflow.database.engine import create_engine
from resumeflow.database.job_posts import SqlJobPostRepository
from resumeflow.database.migrate import upgrade
from resumeflow.database.tables import job_posts
from resumeflow.domain.application import ApplicationState, Status
from resumeflow.domain.jobs import JobPost
from resumeflow.domain.ports import JobPostRepository
from resumeflow.eventstore.sql import SqlEventStore
from resumeflow.pipeline.runner import drive
from resumeflow.pipeline.services import Services
from resumeflow.pipeline.stages import job_post_vector
from resumeflow.pipeline.submit import SubmitApplication, submit_application
from tests.fake_gemini import FakeGemini, Recorded, embedding_reply
from tests.integration.projections.conftest import new_database
from tests.servers import PostgresServer

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings(  # the SDK's own aiohttp subclass warning (see test_gemini.py)
        "ignore:Inheritance class AiohttpClientSession from ClientSession is discouraged"
        ":DeprecationWarning"
    ),
]

DESCRIPTION = "Marker-7f3a: we run Python services on Postgres and Kafka."
RESUME = b"Grace Hopper\ngrace@navy.example\nPython and SQL engineer since 2015\n"
RESUME_VECTOR = (1.0, 0.0, 0.0, 0.0)
POST_VECTOR = (0.6, 0.8, 0.0, 0.0)  # cosine with the resume: 0.6


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGemini]:
    with FakeGemini() as server:
        yield server


@pytest.fixture
def gemini(fake: FakeGemini) -> FakeGemini:
    fake.reset()
    return fake


@pytest.fixture
async def client(gemini: FakeGemini) -> AsyncIterator[genai.Client]:
    client = make_client("test-key", base_url=gemini.url, timeout_seconds=5, attempts=1)
    yield client
    await client.aio.aclose()
    client.close()


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'resumeflow.db'}"
    else:
        url = await new_database(request.getfixturevalue("pg_server"))
    engine = create_engine(url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


def repository(engine: AsyncEngine) -> JobPostRepository:
    """What each mode's composition root uses: the plain repository on SQLite, a worker's
    cached one on Postgres (a new one: a worker process that has not seen the post yet)."""
    plain = SqlJobPostRepository(engine)
    return plain if engine.dialect.name == "sqlite" else CachedJobPosts(plain)


def services(engine: AsyncEngine, client: genai.Client, data: Path) -> Services:
    blobs = FileSystemBlobStore(data / "blobs")
    return Services(
        events=SqlEventStore(engine),
        inbox=FileSystemBlobStore(data / "inbox", name="inbox"),
        blobs=blobs,
        extractor=LocalTextExtractor(blobs),
        parser=LocalResumeParser(),
        embedder=GeminiEmbedder(client, dimension=4),
        job_posts=repository(engine),
    )


def post_requests(gemini: FakeGemini) -> list[Recorded]:
    """The embedding requests that carried the job post's text."""
    return [r for r in gemini.requests if DESCRIPTION in str(r.body)]


async def apply_once(services: Services, job: JobPost, email: str) -> ApplicationState:
    command = SubmitApplication(
        job_post_id=job.id, email=email, name="Grace Hopper", filename="cv.txt", data=RESUME
    )
    application_id: UUID = (await submit_application(services, command)).application_id
    return await drive(services, application_id)


async def stored_vector(engine: AsyncEngine, job: JobPost) -> Any:
    async with engine.connect() as conn:
        query = select(job_posts.c.embedding).where(job_posts.c.id == job.id)
        return (await conn.execute(query)).scalar_one()


def a_post() -> JobPost:
    return JobPost(
        id=uuid4(),
        title="Platform Engineer",
        description=DESCRIPTION,
        required_skills=("Python", "Kafka"),
    )


async def test_two_applications_embed_their_post_once_and_use_the_stored_vector(
    engine: AsyncEngine, client: genai.Client, gemini: FakeGemini, tmp_path: Path
) -> None:
    job = a_post()
    await SqlJobPostRepository(engine).add(job)
    # in order: A's resume (embed stage), A's post (score stage), B's resume; nothing more
    gemini.script(
        embedding_reply([RESUME_VECTOR]),
        embedding_reply([POST_VECTOR]),
        embedding_reply([RESUME_VECTOR]),
    )

    first = await apply_once(services(engine, client, tmp_path), job, "a@example.com")
    assert await stored_vector(engine, job) == list(POST_VECTOR)
    # the stored vector is what B is scored against: change it, and B's similarity follows
    async with engine.begin() as conn:
        await conn.execute(
            update(job_posts).where(job_posts.c.id == job.id).values(embedding=[1.0, 0, 0, 0])
        )
    second = await apply_once(services(engine, client, tmp_path), job, "b@example.com")

    assert (first.status, second.status) == (Status.COMPLETED, Status.COMPLETED)
    assert len(post_requests(gemini)) == 1
    assert len(gemini.requests) == 3
    assert first.score is not None and second.score is not None
    assert (first.score.similarity, second.score.similarity) == (0.6, 1.0)


async def test_two_workers_computing_a_new_posts_vector_at_once_agree(
    engine: AsyncEngine, client: genai.Client, gemini: FakeGemini, tmp_path: Path
) -> None:
    job = a_post()
    await SqlJobPostRepository(engine).add(job)
    gemini.script(fallback=embedding_reply([POST_VECTOR]))
    workers = [services(engine, client, tmp_path / str(n)) for n in range(2)]

    vectors = await asyncio.gather(*(job_post_vector(w, job) for w in workers))
    later = await job_post_vector(services(engine, client, tmp_path / "later"), job)

    assert vectors == [POST_VECTOR, POST_VECTOR]
    assert later == POST_VECTOR
    assert await stored_vector(engine, job) == list(POST_VECTOR)
    assert 1 <= len(post_requests(gemini)) <= 2  # both may have asked; the later one did not
    assert len(gemini.requests) == len(post_requests(gemini))


async def test_a_reworded_post_is_embedded_again(
    engine: AsyncEngine, client: genai.Client, gemini: FakeGemini, tmp_path: Path
) -> None:
    job = a_post()
    repo = SqlJobPostRepository(engine)
    await repo.add(job)
    gemini.script(fallback=embedding_reply([POST_VECTOR]))
    await job_post_vector(services(engine, client, tmp_path), job)

    reworded = job.model_copy(update={"title": "Staff Platform Engineer"})
    await repo.add(reworded)
    await job_post_vector(services(engine, client, tmp_path), reworded)
    await job_post_vector(services(engine, client, tmp_path), reworded)

    assert len(post_requests(gemini)) == 2
