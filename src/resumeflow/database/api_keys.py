"""API keys: who may call the HTTP API, with which role. Stored hashed, never in clear.

A key is ``rfk_`` plus 32 random bytes (URL-safe base64): with that much entropy a plain SHA-256
is the right hash (a slow password hash protects guessable secrets, which these are not), and it
lets a request find its key with one indexed lookup. The key is shown once, when created.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.database.tables import api_keys
from resumeflow.domain.ids import new_id

__all__ = ["ApiKey", "ApiKeyRepository", "Role", "hash_key"]


class Role(StrEnum):
    SUBMITTER = "submitter"  # submit; read the applications it submitted
    READER = "reader"  # every read
    OPERATOR = "operator"  # every read; job posts, retries, dead letters


@dataclass(frozen=True)
class ApiKey:
    id: UUID
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _key(row: object) -> ApiKey:
    m = row._mapping  # type: ignore[attr-defined]
    return ApiKey(
        m["id"], m["name"], Role(m["role"]), m["prefix"], m["created_at"], m["revoked_at"]
    )


class ApiKeyRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, role: Role, name: str = "") -> tuple[ApiKey, str]:
        """A new key: its record, and the key itself (shown once, stored only hashed)."""
        secret = "rfk_" + secrets.token_urlsafe(32)
        record = ApiKey(new_id(), name, role, secret[:10], datetime.now(UTC), None)
        async with self._engine.begin() as conn:
            await conn.execute(
                api_keys.insert().values(
                    id=record.id, name=name, role=role.value, prefix=record.prefix,
                    key_hash=hash_key(secret), created_at=record.created_at,
                )
            )  # fmt: skip
        return record, secret

    async def all(self) -> list[ApiKey]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(api_keys).order_by(api_keys.c.created_at))
            return [_key(row) for row in rows]

    async def revoke(self, key_id: UUID) -> bool:
        """Revoke a key; False when there is no such key (or it was revoked before)."""
        async with self._engine.begin() as conn:
            done = await conn.execute(
                api_keys.update()
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        return bool(done.rowcount)

    async def find(self, secret: str) -> ApiKey | None:
        """The live key ``secret`` is, if any."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(api_keys).where(
                        api_keys.c.key_hash == hash_key(secret), api_keys.c.revoked_at.is_(None)
                    )
                )
            ).first()
        return _key(row) if row is not None else None
