"""Fixtures every test may use: where the shared test material lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path | None:
    """../shared beside the clone (or RESUMEFLOW_SHARED_DIR); None when it is absent."""
    configured = os.environ.get("RESUMEFLOW_SHARED_DIR")
    candidate = Path(configured) if configured else REPO_ROOT.parent / "shared"
    return candidate if (candidate / "data" / "external").is_dir() else None


SHARED = shared_dir()
EXTERNAL = SHARED / "data" / "external" if SHARED else None
needs_shared = pytest.mark.skipif(
    SHARED is None, reason="../shared/data/external is absent (set RESUMEFLOW_SHARED_DIR)"
)


def shared_resumes() -> list[Path]:
    if EXTERNAL is None:
        return []
    return sorted(p for p in (EXTERNAL / "resumes").iterdir() if p.is_file())


@pytest.fixture
def external() -> Path:
    if EXTERNAL is None:
        pytest.skip("../shared/data/external is absent (set RESUMEFLOW_SHARED_DIR)")
    return EXTERNAL
