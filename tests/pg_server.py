"""The Postgres test helper: a private cluster per session (see resumeflow.devservers)."""

from __future__ import annotations

from resumeflow.devservers import PostgresServer

__all__ = ["PostgresServer"]
