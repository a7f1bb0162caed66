"""Every shell and Python block of the docs is either run by
tests/integration/test_doc_snippets.py or marked ``<!-- not run: REASON -->`` with a reason; every
Python block compiles."""

from __future__ import annotations

import pytest

from tests.snippets import Snippet, documents, snippets

ALL = [s for path in documents() for s in snippets(path)]


def _where(snippet: Snippet) -> str:
    return snippet.where


def test_the_extraction_finds_the_blocks_and_their_markers() -> None:
    files = {s.where.split(":")[0] for s in ALL}
    assert {"README.md", "docs/operations/replay-and-debugging.md"} <= files
    readme = [s for s in ALL if s.where.startswith("README.md")]
    assert readme[0].code.startswith("make run") and readme[0].not_run
    assert any(s.language == "python" and s.not_run is None for s in ALL)


@pytest.mark.parametrize("snippet", [s for s in ALL if s.not_run is not None], ids=_where)
def test_a_block_that_is_not_run_says_why(snippet: Snippet) -> None:
    assert snippet.not_run, f"{snippet.where}: `<!-- not run: -->` needs a reason"


@pytest.mark.parametrize("snippet", [s for s in ALL if s.language == "python"], ids=_where)
def test_every_python_block_compiles(snippet: Snippet) -> None:
    compile(snippet.code, snippet.where, "exec")
