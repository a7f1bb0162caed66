"""The workers' settings. The class lives in ``bootstrap`` (the composition root reads it and
may not import ``tasks``); it is re-exported here where a worker's operator looks for it."""

from resumeflow.bootstrap.worker_settings import AdapterChoice, WorkerSettings

__all__ = ["AdapterChoice", "WorkerSettings"]
