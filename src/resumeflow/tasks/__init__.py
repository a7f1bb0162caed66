"""Celery workers for the long I/O stages: ``celery -A resumeflow.tasks worker``.

``app`` is the Celery app (Celery finds it by that name); dispatch.py sends stage messages,
stages.py turns a message into ``run_stage`` calls, sweeper.py finds stuck applications and
loop.py is the async bridge: one event loop per worker process.
"""

from resumeflow.tasks.worker import app, settings

__all__ = ["app", "settings"]
