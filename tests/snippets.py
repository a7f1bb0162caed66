"""The fenced ``sh`` and ``python`` blocks of README.md and docs/**/*.md, for the tests that run
them.

A block that cannot run everywhere (Docker, a server on a fixed port, a process that serves until
stopped) is preceded by ``<!-- not run: REASON -->``; every other block is run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO_ROOT

__all__ = ["Snippet", "documents", "snippets"]

_FENCE = re.compile(r"^```([A-Za-z]*)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_MARKER = re.compile(r"<!--\s*not run:(.*?)-->\s*\Z", re.DOTALL)
LANGUAGES = {"sh": "sh", "bash": "sh", "shell": "sh", "python": "python", "py": "python"}


@dataclass(frozen=True)
class Snippet:
    path: Path
    line: int
    language: str  # "sh" or "python"
    code: str
    not_run: str | None  # the marker's reason ("" when the marker has none); None: run it

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO_ROOT)}:{self.line}"


def documents() -> list[Path]:
    return [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").rglob("*.md"))]


def snippets(path: Path) -> list[Snippet]:
    text = path.read_text()
    found = []
    for match in _FENCE.finditer(text):
        language = LANGUAGES.get(match.group(1).lower())
        if language is None:
            continue
        before = text[: match.start()].rstrip()
        marker = _MARKER.search(before[before.rfind("\n") + 1 :] if "\n" in before else before)
        found.append(
            Snippet(
                path=path,
                line=text.count("\n", 0, match.start()) + 1,
                language=language,
                code=match.group(2),
                not_run=marker.group(1).strip() if marker else None,
            )
        )
    return found
