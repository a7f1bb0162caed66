"""Beat keeps its schedule under the data directory, never in the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from celery.apps.beat import Beat
from celery.beat import Service

from resumeflow.bootstrap.celery import create_celery
from resumeflow.bootstrap.settings import Settings


def test_beat_opens_its_schedule_in_a_data_directory_it_makes_and_not_in_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    data_dir = tmp_path / "state" / "resumeflow"  # absent: beat must make it
    celery = create_celery(Settings(data_dir=data_dir, redis_url="redis://127.0.0.1:1/0"))
    beat = Beat(app=celery, quiet=True)  # what `celery beat` reads from the app's configuration
    # the scheduler it builds on start (Beat.start_scheduler), which opens the schedule file
    service = Service(app=celery, scheduler_cls=beat.scheduler_cls, schedule_filename=beat.schedule)
    service.scheduler.close()

    assert sorted(p.name for p in data_dir.iterdir() if p.name.startswith("celerybeat-schedule"))
    assert list(cwd.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", "state"]
