"""Every shell and Python block of README.md and docs/**/*.md that is not marked
``<!-- not run: REASON -->`` runs for real: the blocks of one document in order, in one shell
each, from a temporary directory holding a copy of examples/ and a link to .venv, with a
temporary RESUMEFLOW_DATA_DIR and no other RESUMEFLOW_* setting.

Two substitutions keep them off the machine's own ports: ``8000`` becomes a free port (the
README's HTTP API quickstart serves an embedded ``resumeflow api``), and ``stack up`` gets
``--free-ports --no-flower``. A block that starts the API in the background, or a stack, has it
stopped when the block's shell exits."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.servers import free_port
from tests.snippets import Snippet, documents, snippets

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

RUN = [path for path in documents() if any(s.not_run is None for s in snippets(path))]
VENV_BIN = Path(sys.executable).parent


def _script(snippet: Snippet, port: int) -> str:
    code = re.sub(r"\b8000\b", str(port), snippet.code)
    code = code.replace("stack up", "stack up --free-ports --no-flower")
    cleanup = ["kill $(jobs -p) 2>/dev/null || true"]
    if "stack up" in code:
        cleanup.append("resumeflow stack down --purge > /dev/null 2>&1 || true")
    return "set -eo pipefail\ntrap '" + "; ".join(cleanup) + "' EXIT\n" + code


def _environment(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESUMEFLOW_")}
    return env | {
        "RESUMEFLOW_DATA_DIR": str(tmp / "data"),
        "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        "OMP_THREAD_LIMIT": "1",
    }


@pytest.mark.parametrize("path", RUN, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_unmarked_block_of_the_document_runs(path: Path, tmp_path: Path) -> None:
    blocks = [s for s in snippets(path) if s.not_run is None]
    tools = {t for s in blocks if s.language == "sh" for t in ("jq", "curl") if t in s.code}
    missing = sorted(t for t in tools if shutil.which(t) is None)
    if missing:
        pytest.skip(f"{path.name}'s blocks need {', '.join(missing)}")
    shutil.copytree(REPO_ROOT / "examples", tmp_path / "examples")
    (tmp_path / ".venv").symlink_to(REPO_ROOT / ".venv", target_is_directory=True)
    env = _environment(tmp_path)
    for snippet in blocks:
        if snippet.language == "python":
            exec(compile(snippet.code, snippet.where, "exec"), {"__name__": "snippet"})
            continue
        done = subprocess.run(
            ["bash", "-c", _script(snippet, free_port())],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, (
            f"{snippet.where} exited {done.returncode}\n--- stdout\n{done.stdout[-3000:]}"
            f"\n--- stderr\n{done.stderr[-3000:]}"
        )
