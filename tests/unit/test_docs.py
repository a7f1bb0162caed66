"""The docs that describe code stay true to it."""

from __future__ import annotations

from resumeflow.domain.events import PAYLOAD_TYPES
from tests.conftest import REPO_ROOT


def test_the_event_catalogue_lists_every_event_type_with_its_schema_version() -> None:
    catalogue = (REPO_ROOT / "docs" / "events.md").read_text()
    for payload in PAYLOAD_TYPES:
        assert f"| `{payload.type_name}` | {payload.schema_version} |" in catalogue
