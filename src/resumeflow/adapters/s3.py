"""S3 blob store on aioboto3: content-addressed keys, SigV4 presigned URLs.

Keys are the local store's (``sha256/ab/abcd...``) under an optional prefix, so a blob moved
between stores keeps its name, and a repeated ``put`` of the same bytes is harmless. The client
is created by the composition root on the worker's event loop and lives as long as that loop
(aiobotocore clients are bound to it).
"""

from __future__ import annotations

from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from resumeflow.adapters.local.blobs import content_key
from resumeflow.domain.errors import StageError
from resumeflow.domain.ports import BlobNotFound, BlobRef

__all__ = ["S3BlobStore", "s3_config"]

_MISSING = {"NoSuchKey", "404", "NotFound"}


def s3_config(region: str) -> Config:
    """Client config: SigV4 with the region named. Without it botocore 1.40 presigns SigV2 on
    the global endpoint, which regional buckets refuse."""
    return Config(
        region_name=region,
        signature_version="s3v4",
        retries={"max_attempts": 4, "mode": "adaptive"},
        s3={"addressing_style": "path"},
    )


def _unavailable(error: Exception) -> StageError:
    return StageError("blob_store_unavailable", f"{type(error).__name__}: {error}", retryable=True)


class S3BlobStore:
    """BlobStore on one bucket; ``client`` is an entered aioboto3 S3 client."""

    def __init__(self, client: Any, *, bucket: str, prefix: str = "", name: str = "s3") -> None:
        self._client = client
        self.bucket = bucket
        self.prefix = prefix
        self.name = name

    def _key(self, key: str) -> str:
        if not key.startswith("sha256/"):
            raise BlobNotFound(key)  # a key we did not make never reaches the bucket
        return self.prefix + key

    async def put(self, data: bytes, *, content_type: str) -> BlobRef:
        key, digest = content_key(data)
        try:
            await self._client.put_object(
                Bucket=self.bucket, Key=self.prefix + key, Body=data, ContentType=content_type
            )
        except (ClientError, BotoCoreError) as error:
            raise _unavailable(error) from error
        return BlobRef(key=key, sha256=digest, size_bytes=len(data))

    async def get(self, key: str) -> bytes:
        try:
            response = await self._client.get_object(Bucket=self.bucket, Key=self._key(key))
            async with response["Body"] as body:
                data: bytes = await body.read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                raise BlobNotFound(key) from error
            raise _unavailable(error) from error
        except BotoCoreError as error:
            raise _unavailable(error) from error
        return data

    async def delete(self, key: str) -> None:
        """Deleting a missing object succeeds (S3 answers 204 either way)."""
        try:
            await self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (ClientError, BotoCoreError) as error:
            raise _unavailable(error) from error

    def object_name(self, key: str) -> str:
        """The object's name in the bucket (what Textract is told to read)."""
        return self._key(key)

    async def presigned_url(self, key: str, *, expires_in: int = 900) -> str:
        """A SigV4 GET URL for ``key``, valid ``expires_in`` seconds."""
        url: str = await self._client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self._key(key)},
            ExpiresIn=expires_in,
        )
        return url
