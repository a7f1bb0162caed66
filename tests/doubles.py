"""Small port implementations for use-case tests: scripted to fail the way real adapters do."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import uuid4

from resumeflow.adapters.local.blobs import InMemoryBlobStore
from resumeflow.adapters.local.embedder import TermEmbedder
from resumeflow.database.job_posts import InMemoryJobPostRepository
from resumeflow.domain.documents import ExtractedText, PageText, TextSource
from resumeflow.domain.jobs import JobPost
from resumeflow.domain.ports import BlobStore, DocumentRef
from resumeflow.domain.resume import ParsedResume
from resumeflow.eventstore.memory import InMemoryEventStore
from resumeflow.pipeline.services import RetryPolicy, Services


class PlainTextExtractor:
    """Treats the stored bytes as UTF-8 text; before that, raises whatever ``failures`` holds."""

    name = "plain"

    def __init__(self, blobs: BlobStore, failures: Sequence[BaseException] = ()) -> None:
        self._blobs = blobs
        self.failures = list(failures)
        self.calls = 0
        self.tokens: list[str] = []

    async def extract(self, document: DocumentRef, *, request_token: str) -> ExtractedText:
        self.calls += 1
        self.tokens.append(request_token)
        if self.failures:
            raise self.failures.pop(0)
        text = (await self._blobs.get(document.blob_key)).decode()
        return ExtractedText(
            format=document.format,
            extractor=self.name,
            pages=(PageText(number=1, text=text, source=TextSource.TEXT_LAYER),),
        )


class FirstLineParser:
    name = "first-line"

    async def parse(self, text: str) -> ParsedResume:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        email = next((w for w in text.split() if "@" in w), None)
        return ParsedResume(
            name=lines[0] if lines else None,
            email=email,
            skills=tuple(w for w in ("Python", "SQL") if w in text),
        )


JOB = JobPost(
    id=uuid4(),
    title="Data Engineer",
    description="Python and SQL pipelines",
    required_skills=("Python", "SQL", "Kafka"),
    min_years_experience=2,
)


async def make_services(
    failures: Sequence[BaseException] = (), *, max_attempts: int = 3
) -> Services:
    blobs = InMemoryBlobStore()
    jobs = InMemoryJobPostRepository()
    await jobs.add(JOB)
    return Services(
        events=InMemoryEventStore(),
        inbox=InMemoryBlobStore(name="inbox"),
        blobs=blobs,
        extractor=PlainTextExtractor(blobs, failures),
        parser=FirstLineParser(),
        embedder=TermEmbedder(64),
        job_posts=jobs,
        retry=RetryPolicy(max_attempts=max_attempts, base_seconds=0.0, max_seconds=0.0),
    )
