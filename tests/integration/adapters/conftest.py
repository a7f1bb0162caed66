"""AWS through moto's server, run in this process on a free port.

In-process (ThreadedMotoServer) rather than the ``moto_server`` CLI because Textract's results
can only be set where moto's backends live: moto documents patching ``TextractBackend`` class
attributes for that. Clients are the real aioboto3 ones over HTTP; each test gets its own
bucket, so tests share the server without sharing state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from itertools import count
from typing import Any
from uuid import uuid4

import aioboto3
import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer
from moto.textract.models import TextractBackend, textract_backends

from resumeflow.adapters.s3 import S3BlobStore, s3_config

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    wsgi = server._server  # stop() leaves the listening socket open: close it ourselves
    server.stop()
    if wsgi is not None:
        wsgi.server_close()


def aws_session() -> Any:
    return aioboto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )


@pytest.fixture
async def s3_client(moto_endpoint: str) -> AsyncIterator[Any]:
    async with aws_session().client(
        "s3", endpoint_url=moto_endpoint, config=s3_config(REGION)
    ) as client:
        yield client


@pytest.fixture
async def bucket(s3_client: Any) -> str:
    name = f"rf-{uuid4().hex[:16]}"
    await s3_client.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return name


@pytest.fixture
def blobs(s3_client: Any, bucket: str) -> S3BlobStore:
    return S3BlobStore(s3_client, bucket=bucket, prefix="resumes/")


_ids = count(1)


def blocks(pages: dict[int, list[str]]) -> list[dict[str, Any]]:
    """Textract's block tree for ``pages``: a PAGE, then LINEs each followed by its WORDs."""
    tree: list[dict[str, Any]] = []
    for page, lines in pages.items():
        tree.append({"BlockType": "PAGE", "Id": f"b{next(_ids)}", "Page": page})
        for line in lines:
            tree.append({"BlockType": "LINE", "Id": f"b{next(_ids)}", "Text": line, "Page": page})
            tree.extend(
                {"BlockType": "WORD", "Id": f"b{next(_ids)}", "Text": word, "Page": page}
                for word in line.split()
            )
    return tree


@pytest.fixture
def textract_says(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[int, list[str]]], None]:
    """Set what moto's Textract answers (its documented hook), restored after the test."""

    def say(pages: dict[int, list[str]]) -> None:
        monkeypatch.setattr(TextractBackend, "BLOCKS", blocks(pages))
        monkeypatch.setattr(TextractBackend, "PAGES", len(pages))
        monkeypatch.setattr(TextractBackend, "JOB_STATUS", "SUCCEEDED")

    return say


def jobs_started() -> int:
    """Text detection jobs moto's Textract has been asked to start, by any test."""
    return len(textract_backends[DEFAULT_ACCOUNT_ID][REGION].async_text_detection_jobs)
