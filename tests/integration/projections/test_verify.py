"""``resumeflow verify``: a projected log verifies clean; each kind of damage is named."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from redis.asyncio import Redis
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncEngine

from resumeflow.bootstrap.settings import Settings
from resumeflow.database.tables import applications, events
from resumeflow.domain.ports import AppendBatch
from resumeflow.projections.verify import redis_log, verify
from tests.factories import happy_history
from tests.integration.projections.helpers import (
    append_histories,
    caught_up,
    running,
    settings_env,
    store_of,
    wait_for,
)

pytestmark = pytest.mark.integration


def _kinds(report: dict[str, object]) -> dict[str, str]:
    details = report["details"]
    assert isinstance(details, list)
    return {d["application_id"]: d["kind"] for d in details}


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings_env(settings)}
    command = [sys.executable, "-m", "resumeflow", "verify", "--json", "--settle", "0", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


async def test_a_projected_log_verifies_and_each_damage_is_reported(
    engine: AsyncEngine, redis: Redis, settings: Settings
) -> None:
    store = store_of(redis, settings)
    histories = await append_histories(store, 20)
    waiting = uuid4()  # accepted, then nothing more: stuck once old enough
    histories[waiting] = happy_history(waiting, stages=0)
    await store.append(waiting, histories[waiting], expected_version=0)
    async with running(settings):
        await wait_for(lambda: caught_up(engine, histories))

    clean = _cli(settings)
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout)["ok"] is True
    assert json.loads(clean.stdout)["applications"] == 21
    assert json.loads(clean.stdout)["events"] == 20 * 7 + 1

    renamed, unarchived, dropped = list(histories)[:3]
    async with engine.begin() as conn:
        await conn.execute(
            update(applications).where(applications.c.id == renamed).values(name="Someone Else")
        )
        await conn.execute(
            delete(events).where(events.c.application_id == unarchived, events.c.version == 7)
        )
        await conn.execute(delete(applications).where(applications.c.id == dropped))
    damaged = _cli(settings)

    assert damaged.returncode == 1
    report = json.loads(damaged.stdout)
    assert report["ok"] is False
    assert _kinds(report) == {
        str(renamed): "row_mismatch",
        str(unarchived): "archive_behind",
        str(dropped): "missing_row",
    }
    [mismatch] = [d for d in report["details"] if d["kind"] == "row_mismatch"]
    assert "name" in mismatch["detail"]

    later = await verify(
        engine,
        redis_log(store, engine),
        settle=0,
        now=lambda: datetime.now(UTC) + timedelta(hours=1),
    )
    assert {d.application_id: d.kind for d in later.differences}[waiting] == "stuck"


async def test_lag_within_the_settle_time_is_not_a_difference(
    engine: AsyncEngine, redis: Redis, settings: Settings
) -> None:
    store = store_of(redis, settings)
    histories = await append_histories(store, 5)
    async with running(settings):
        await wait_for(lambda: caught_up(engine, histories))
        late = uuid4()  # appended while the projector runs: behind for a moment
        await store.append_many([AppendBatch(late, happy_history(late), expected_version=0)])
        report = await verify(engine, redis_log(store, engine), settle=30)
    assert report.ok, report.as_dict()
    assert report.applications == 6


def test_the_embedded_mode_verifies_from_an_empty_data_dir_to_a_tampered_row(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "RESUMEFLOW_DATA_DIR": str(tmp_path / "data")}
    env = {
        k: v for k, v in env.items() if k not in ("RESUMEFLOW_REDIS_URL", "RESUMEFLOW_DATABASE_URL")
    }

    def verify_json() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "resumeflow", "verify", "--json", "--settle", "0"]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    empty = verify_json()
    assert (empty.returncode, json.loads(empty.stdout)["applications"]) == (0, 0), empty.stderr
    examples = Path(__file__).resolve().parents[3] / "examples"
    subprocess.run(
        [sys.executable, "-m", "resumeflow", "process", str(examples / "resume.pdf"),
         "--job", str(examples / "job-backend-engineer.txt")],
        env=env, capture_output=True, timeout=300, check=True,
    )  # fmt: skip
    assert verify_json().returncode == 0
    with sqlite3.connect(tmp_path / "data" / "resumeflow.db") as db:
        db.execute("UPDATE applications SET email = 'someone@else.example'")
    tampered = verify_json()
    assert tampered.returncode == 1
    assert json.loads(tampered.stdout)["differences"] == {"row_mismatch": 1}
