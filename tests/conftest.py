"""Fixtures every test may use: where the shared test material lives."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from resumeflow.bootstrap.settings import (
    ApiSettings,
    LogSettings,
    ProjectionSettings,
    Settings,
    WorkerSettings,
)

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


def settings_from(values: Mapping[str, Any]) -> Settings:
    """Settings from flat field names (as the RESUMEFLOW_* variables name them): each value goes
    to the section that has the field, the rest to the top level."""
    sections: dict[str, type[BaseSettings]] = {
        "log": LogSettings,
        "projections": ProjectionSettings,
        "workers": WorkerSettings,
        "api": ApiSettings,
    }
    top: dict[str, Any] = {}
    parts: dict[str, dict[str, Any]] = {name: {} for name in sections}
    for key, value in values.items():
        owner = next((n for n, cls in sections.items() if key in cls.model_fields), None)
        (parts[owner] if owner else top)[key] = value
    built = {name: sections[name](**part) for name, part in parts.items()}
    return Settings.model_validate(top | built)


def setting_variables() -> dict[str, FieldInfo]:
    """Every setting's environment variable -> its field: ``RESUMEFLOW_`` and the field's name,
    the sections' fields included (each section reads the same prefix)."""
    names: dict[str, FieldInfo] = {}
    for name, info in Settings.model_fields.items():
        section = info.annotation
        if isinstance(section, type) and issubclass(section, BaseSettings):
            for inner, inner_info in section.model_fields.items():
                names[f"RESUMEFLOW_{inner.upper()}"] = inner_info
        else:
            names[f"RESUMEFLOW_{name.upper()}"] = info
    return names
