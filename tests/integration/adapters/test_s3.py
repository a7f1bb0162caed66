"""S3BlobStore against moto's S3 server with the real aioboto3 client."""

from __future__ import annotations

import asyncio
import hashlib
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.config import Config

from resumeflow.adapters.s3 import S3BlobStore, s3_config
from resumeflow.domain.errors import StageError
from resumeflow.domain.ports import BlobNotFound
from tests.integration.adapters.conftest import REGION, aws_session

pytestmark = pytest.mark.integration

DATA = b"%PDF-1.7\n a resume, byte for byte\n"


def http_get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        status: int = response.status
        return status, response.read()


async def test_put_get_delete_round_trip(blobs: S3BlobStore, s3_client: Any, bucket: str) -> None:
    ref = await blobs.put(DATA, content_type="application/pdf")

    digest = hashlib.sha256(DATA).hexdigest()
    assert ref.key == f"sha256/{digest[:2]}/{digest}"
    assert (ref.sha256, ref.size_bytes) == (digest, len(DATA))
    assert await blobs.get(ref.key) == DATA
    head = await s3_client.head_object(Bucket=bucket, Key=f"resumes/{ref.key}")
    assert head["ContentType"] == "application/pdf"
    assert blobs.object_name(ref.key) == f"resumes/{ref.key}"

    await blobs.delete(ref.key)

    with pytest.raises(BlobNotFound):
        await blobs.get(ref.key)


async def test_a_repeated_put_is_harmless(blobs: S3BlobStore) -> None:
    first = await blobs.put(DATA, content_type="application/pdf")
    second = await blobs.put(DATA, content_type="application/pdf")

    assert first == second
    assert await blobs.get(first.key) == DATA


async def test_a_missing_key_is_blob_not_found(blobs: S3BlobStore) -> None:
    with pytest.raises(BlobNotFound):
        await blobs.get(MISSING_KEY)


async def test_a_key_we_did_not_make_never_reaches_the_bucket(blobs: S3BlobStore) -> None:
    with pytest.raises(BlobNotFound):
        await blobs.get("../other-tenant/secret.pdf")


async def test_presigned_url_is_sigv4_and_fetches_the_bytes(blobs: S3BlobStore) -> None:
    ref = await blobs.put(DATA, content_type="application/pdf")

    url = await blobs.presigned_url(ref.key, expires_in=300)

    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert f"/{REGION}/s3/aws4_request" in query["X-Amz-Credential"][0]
    assert query["X-Amz-Expires"] == ["300"]
    assert "Signature" not in query and "AWSAccessKeyId" not in query  # not SigV2
    status, body = await asyncio.to_thread(http_get, url)
    assert (status, body) == (200, DATA)


MISSING_KEY = "sha256/00/" + "0" * 64
OPERATIONS: dict[str, Callable[[S3BlobStore], Awaitable[object]]] = {
    "put": lambda store: store.put(DATA, content_type="application/pdf"),
    "get": lambda store: store.get(MISSING_KEY),
    "delete": lambda store: store.delete(MISSING_KEY),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
async def test_an_unreachable_store_is_a_retryable_stage_error(operation: str) -> None:
    """Nothing listens on the discard port: every operation fails the way a network fault does."""
    config = s3_config(REGION).merge(Config(retries={"max_attempts": 1}, connect_timeout=1))
    async with aws_session().client(
        "s3", endpoint_url="http://127.0.0.1:9", config=config
    ) as client:
        store = S3BlobStore(client, bucket="rf-nowhere")
        with pytest.raises(StageError) as raised:
            await OPERATIONS[operation](store)

    assert (raised.value.reason, raised.value.retryable) == ("blob_store_unavailable", True)
