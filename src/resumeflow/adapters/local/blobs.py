"""Blob stores for the embedded mode: a content-addressed folder, and memory for tests."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from pathlib import Path

from resumeflow.domain.ports import BlobNotFound, BlobRef

__all__ = ["FileSystemBlobStore", "InMemoryBlobStore", "content_key"]

_KEY = re.compile(r"^sha256/[0-9a-f]{2}/[0-9a-f]{64}$")


def content_key(data: bytes) -> tuple[str, str]:
    """(key, sha256 hex) of ``data``. The key is all a blob is ever known by."""
    digest = hashlib.sha256(data).hexdigest()
    return f"sha256/{digest[:2]}/{digest}", digest


def _checked(key: str) -> str:
    """Refuse any key we did not make: a key never carries a path from outside."""
    if not _KEY.match(key):
        raise BlobNotFound(key)
    return key


class FileSystemBlobStore:
    """Bytes under ``root/sha256/ab/abcdef...``; writes are atomic (temp file, then rename) and
    durable (file and directory fsynced) before ``put`` returns."""

    def __init__(self, root: Path, *, name: str = "local") -> None:
        self.root = root
        self.name = name

    async def put(self, data: bytes, *, content_type: str) -> BlobRef:
        key, digest = content_key(data)
        await asyncio.to_thread(self._write, self.root / key, data)
        return BlobRef(key=key, sha256=digest, size_bytes=len(data))

    async def get(self, key: str) -> bytes:
        path = self.root / _checked(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as missing:
            raise BlobNotFound(key) from missing

    async def delete(self, key: str) -> None:
        path = self.root / _checked(key)
        await asyncio.to_thread(path.unlink, True)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.exists():
            return  # same key, same bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())  # on disk before anyone is told it is stored
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # and the rename with it
        finally:
            os.close(directory)


class InMemoryBlobStore:
    def __init__(self, *, name: str = "memory") -> None:
        self.name = name
        self._blobs: dict[str, bytes] = {}

    async def put(self, data: bytes, *, content_type: str) -> BlobRef:
        key, digest = content_key(data)
        self._blobs[key] = data
        return BlobRef(key=key, sha256=digest, size_bytes=len(data))

    async def get(self, key: str) -> bytes:
        try:
            return self._blobs[key]
        except KeyError as missing:
            raise BlobNotFound(key) from missing

    async def delete(self, key: str) -> None:
        self._blobs.pop(key, None)
