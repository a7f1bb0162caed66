"""The projector's runtime tunes the garbage collector while it runs and undoes it on exit.

Nothing connects while the runtime is built, so no server is needed.
"""

from __future__ import annotations

import gc

from resumeflow.bootstrap.projector import projector_runtime
from resumeflow.streams.settings import ProjectorSettings


async def test_start_up_objects_are_frozen_while_running_and_released_after() -> None:
    settings = ProjectorSettings(
        postgres_url="postgresql+asyncpg://nobody@127.0.0.1:9/none",
        redis_url="redis://127.0.0.1:9/0",
        gc_threshold=50_000,
    )
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    async with projector_runtime(settings):
        assert gc.get_freeze_count() > 10_000  # modules, the app: start-up's objects
        assert gc.get_threshold()[0] == 50_000
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before
