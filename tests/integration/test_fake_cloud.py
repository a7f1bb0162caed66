"""The benchmark's fake cloud answers the real clients as the services do: S3 objects through
aioboto3, a Textract job IN_PROGRESS for its polls then SUCCEEDED (one job per request token),
Gemini's structured output and embeddings through google-genai, and the faults it is told to
inject, which the adapters translate as they would the real ones."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import aioboto3
import pytest

from resumeflow.adapters.gemini import GeminiEmbedder, GeminiParser, make_client
from resumeflow.adapters.s3 import S3BlobStore, s3_config
from resumeflow.adapters.textract import S3Object, TextractOcr
from resumeflow.domain.errors import StageError, StagePending
from resumeflow_dev.fakes.process import FakeCloud

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings(  # the SDK's own aiohttp subclass warning (see test_gemini.py)
        "ignore:Inheritance class AiohttpClientSession from ClientSession is discouraged"
        ":DeprecationWarning"
    ),
]

BUCKET = "fake-cloud-test"


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    with FakeCloud(
        s3_ms=1, textract_polls=2, textract_poll_ms=5, gemini_ms=1, embedding_ms=1
    ) as fake:
        fake.create_bucket(BUCKET)
        yield fake


@pytest.fixture
async def clients(cloud: FakeCloud) -> AsyncIterator[tuple[Any, Any]]:
    session = aioboto3.Session(aws_access_key_id="k", aws_secret_access_key="s")
    config = s3_config("eu-west-1")
    async with (
        session.client("s3", endpoint_url=cloud.url, config=config) as s3,
        session.client("textract", endpoint_url=cloud.url, config=config) as textract,
    ):
        yield s3, textract


async def test_s3_keeps_objects_and_textract_runs_a_job_through_its_polls(
    cloud: FakeCloud, clients: tuple[Any, Any]
) -> None:
    s3, textract = clients
    blobs = S3BlobStore(s3, bucket=BUCKET, prefix="docs/")
    ref = await blobs.put(b"%PDF-1.4 not really", content_type="application/pdf")
    assert await blobs.get(ref.key) == b"%PDF-1.4 not really"
    image = await blobs.put(b"\x89PNG pixels", content_type="image/png")
    ocr = TextractOcr(textract, poll_seconds=0.01)
    where = S3Object(BUCKET, blobs.object_name(image.key))

    (page,) = await ocr.read(where, sync=True, request_token="t-sync")
    assert page.text.splitlines()[0] == "Jordan Example" and page.confidence == 0.985
    for _ in range(2):
        with pytest.raises(StagePending):
            await ocr.read(where, sync=False, request_token="t-job")
    (page,) = await ocr.read(where, sync=False, request_token="t-job")
    assert "Python" in page.text

    stats = cloud.stats()
    assert stats["textract.StartDocumentTextDetection"] == 3  # one job: the same token each time
    assert stats["textract.GetDocumentTextDetection"] == 3


async def test_s3_faults_are_503_slow_down_and_stop_when_told(
    cloud: FakeCloud, clients: tuple[Any, Any]
) -> None:
    s3, _ = clients
    blobs = S3BlobStore(s3, bucket=BUCKET)
    cloud.configure(s3_fault_rate=1.0)
    with pytest.raises(StageError) as refused:
        await blobs.put(b"resume", content_type="text/plain")
    assert refused.value.reason == "blob_store_unavailable" and refused.value.retryable
    cloud.configure(s3_fault_rate=0.0)
    assert (await blobs.put(b"resume", content_type="text/plain")).size_bytes == 6
    assert cloud.stats()["s3.fault"] >= 1


async def test_gemini_parses_embeds_and_fails_as_told(cloud: FakeCloud) -> None:
    client = make_client("key", base_url=cloud.url, timeout_seconds=5, attempts=1)
    try:
        parser = GeminiParser(client, model="gemini-2.5-flash")
        parsed = await parser.parse("Ada Lovelace\nada@example.com\nPython and SQL")
        assert (parsed.name, parsed.email) == ("Ada Lovelace", "ada@example.com")
        assert parsed.skills == ("Python", "SQL")
        vectors = await GeminiEmbedder(client, dimension=8).embed(["one", "two"])
        assert [len(v) for v in vectors] == [8, 8] and vectors[0] != vectors[1]

        cloud.configure(gemini_fault_rate=1.0, gemini_hang=0.01)
        with pytest.raises(StageError) as failed:
            await parser.parse("Ada Lovelace")
        assert failed.value.reason in {"rate_limited", "llm_unavailable", "malformed_llm_output"}
        assert sum(n for k, n in cloud.stats().items() if k.startswith("gemini.fault.")) >= 1
    finally:
        await client.aio.aclose()
