"""The fault suite, small: ``resumeflow chaos`` with a few kills and restarts of each kind, the
real cloud clients on the fake cloud with its Gemini and S3 faults."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

BIN = Path(sys.executable).parent / "resumeflow"


def test_nothing_is_lost_duplicated_or_projected_wrong_under_faults() -> None:
    args = ["--applications", "30", "--rate", "2", "--worker-kills", "3", "--projector-kills"]
    args += ["1", "--redis-restarts", "1", "--postgres-restarts", "1", "--stuck-after", "60"]
    done = subprocess.run(
        [str(BIN), "chaos", *args, "--settle", "300", "--json"],
        capture_output=True,
        text=True,
        timeout=840,
    )
    report = json.loads(done.stdout)
    assert report["faults"] == {"worker": 3, "projector": 1, "redis": 1, "postgres": 1}
    assert report["config"]["cloud"] and report["config"]["gemini_fault_rate"] == 0.1
    assert report["accepted"] == 30 and report["lost"] == 0, report
    # a good resume may end failed only by an injected fault's own reason (a malformed answer)
    assert set(report["failed"]) <= {"malformed_llm_output"}, report["failure_examples"]
    assert report["completed"] + sum(report["failed"].values()) == 30
    assert report["duplicate_stage_events"] == 0
    assert report["projection_mismatches"] == 0 and report["verify"] == {}
    assert report["worker_exits"] == 0
    assert done.returncode == 0, done.stderr
