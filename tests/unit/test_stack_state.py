"""The stack's state file: a recorded pid is the stack's only while its start time matches, so
``stack down`` never signals a process that reused the pid; ports come from the options."""

from __future__ import annotations

import os
from pathlib import Path

from resumeflow.bootstrap.stack import DEFAULT_PORTS, choose_ports
from resumeflow.bootstrap.stack_state import Process, StackState, alive, load_state


def _me(started: int | None) -> Process:
    return Process("api", os.getpid(), started, ["resumeflow", "api"], "/dev/null", 8000)


def test_a_pid_is_ours_only_with_the_recorded_start_time() -> None:
    started = int(Path(f"/proc/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()[19])
    assert alive(_me(started))
    assert not alive(_me(started + 1))  # the same pid, another process: not the stack's


def test_the_state_file_round_trips(tmp_path: Path) -> None:
    state = StackState(
        directory=str(tmp_path),
        data_dir=str(tmp_path / "data"),
        ports={"api": 8123},
        env={"RESUMEFLOW_REDIS_URL": "redis://127.0.0.1:1/0"},
        processes=[_me(7)],
        started_at=1.5,
        up_seconds=12.5,
    )
    state.save()
    assert load_state(tmp_path) == state
    assert load_state(tmp_path / "nowhere") is None
    assert state.api_url == "http://127.0.0.1:8123"


def test_ports_are_the_defaults_the_options_or_all_free_ones() -> None:
    assert choose_ports({}, free=False) == {
        "api": 8000,
        "redis": 16379,
        "postgres": 15432,
        "worker_metrics": 9101,
        "projector_metrics": 9102,
        "flower": 5555,
    }
    assert choose_ports({"api": 8123}, free=False)["api"] == 8123
    free = choose_ports({"api": 8123}, free=True)
    assert set(free) == set(DEFAULT_PORTS) and len(set(free.values())) == len(free)
