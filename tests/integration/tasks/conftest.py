"""A throwaway deployment per test: real Celery worker processes on the test's own redis-server.

Each test gets its own broker database and queue, its own stream prefix, data folder and SQLite
file, so tests cannot see each other's messages or events. Workers are real subprocesses
(``celery -A resumeflow.tasks worker`` or ``resumeflow worker``) in their own process group;
teardown stops every one of them, and kills whatever does not stop. Their adapters are the real
ones (aioboto3 S3 and Textract, google-genai) against the test's own fake cloud
(resumeflow_dev.fakes): short latencies, Textract jobs IN_PROGRESS for ``TEXTRACT_POLLS`` polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from celery import Celery
from redis.asyncio import Redis

from resumeflow.bootstrap.celery import create_celery
from resumeflow.bootstrap.distributed import WorkerRuntime, open_worker_runtime
from resumeflow.bootstrap.settings import Settings
from resumeflow.cli.app import load_job_post
from resumeflow.database.engine import create_engine
from resumeflow.database.migrate import upgrade
from resumeflow.domain.application import status_of
from resumeflow.domain.events import EventEnvelope, Stage
from resumeflow.eventstore.redis_client import create_redis
from resumeflow.pipeline.submit import SubmitApplication, submit_application
from resumeflow.tasks.dispatch import dispatch
from resumeflow_dev.fakes.process import FakeCloud
from tests.conftest import settings_from
from tests.servers import RedisServer

ROOT = Path(__file__).resolve().parents[3]
RESUME = (ROOT / "examples" / "resume.pdf").read_bytes()
JOB_FILE = ROOT / "examples" / "job-backend-engineer.txt"
SUCCESS_TYPES = (
    "application.received",
    "application.stored",
    "application.text_extracted",
    "application.parsed",
    "application.embedded",
    "application.scored",
    "application.completed",
)
TEXTRACT_POLLS = 2
_broker_dbs = itertools.count()


def env_of(values: dict[str, Any]) -> dict[str, str]:
    return {f"RESUMEFLOW_{name.upper()}": str(value) for name, value in values.items()}


class WorkerProcess:
    """One worker subprocess (and its pool children) in a process group of its own."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], cwd: Path, log: Path) -> None:
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=os.environ | env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, within: float = 30.0) -> WorkerProcess:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.output()[-4000:]}")
            if " ready." in self.output():
                return self
            time.sleep(0.05)
        raise TimeoutError(f"worker not ready after {within} s:\n{self.output()[-4000:]}")

    def children(self) -> list[int]:
        """Pids whose parent is the worker's main process (the prefork pool's children)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.pid:
                found.append(int(stat.parent.name))
        return found

    def kill9(self) -> None:
        """SIGKILL the whole group: the main process and every pool child, no cleanup at all."""
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """A warm shutdown (SIGTERM), then SIGKILL for the group if it takes too long."""
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)  # children a dead parent left behind
        self.process.wait(10)


@dataclass
class Site:
    """One test's deployment: settings shared by the producer (the test) and its workers."""

    values: dict[str, Any]
    tmp: Path
    runtime: WorkerRuntime
    celery: Celery
    job_post_id: UUID
    cloud: FakeCloud
    workers: list[WorkerProcess] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def worker(
        self,
        name: str,
        *,
        pool: str = "threads",
        concurrency: int = 8,
        cli: bool = False,
        beat: bool = False,
        **overrides: Any,
    ) -> WorkerProcess:
        """Start a worker with the site's settings plus ``overrides``; returns when it is ready."""
        values = self.values | overrides
        settings_from(values)  # fail here, not in the subprocess, on settings it would refuse
        node = f"{name}-{self.values['stream_prefix']}@%h"
        if cli:
            argv = [str(Path(sys.executable).parent / "resumeflow"), "worker"]
        else:
            argv = [sys.executable, "-m", "celery", "-A", "resumeflow.tasks", "worker"]
        if pool == "prefork" and not cli:
            pool = (
                "processes"  # "-P prefork" would lose to the configured pool (see cli/workers.py)
            )
        argv += [f"--pool={pool}", f"--concurrency={concurrency}", f"--hostname={node}"]
        argv += ["--loglevel=INFO"]
        if beat:
            argv.append("--beat")
        if not cli:
            argv += ["--without-gossip", "--without-mingle"]
        process = WorkerProcess(argv, env_of(values), self.tmp, self.tmp / f"{name}.log")
        self.workers.append(process)
        return process.wait_ready()

    async def submit(
        self, count: int = 1, *, data: bytes = RESUME, filename: str = "resume.pdf"
    ) -> list[UUID]:
        """Submit ``count`` applications (the received event only: nothing is sent)."""
        ids = []
        for n in range(count):
            command = SubmitApplication(
                job_post_id=self.job_post_id,
                email=f"applicant{n}@example.com",
                name=f"Applicant {n}",
                filename=filename,
                data=data,
            )
            ids.append((await submit_application(self.runtime.services, command)).application_id)
        return ids

    def dispatch(self, ids: Sequence[UUID], stage: Stage = Stage.STORE) -> None:
        dispatch(self.celery, stage, ids)

    async def history(self, application_id: UUID) -> list[EventEnvelope]:
        return list(await self.runtime.services.events.read(application_id))

    async def types(self, application_id: UUID) -> list[str]:
        return [event.type for event in await self.history(application_id)]

    async def wait_for(
        self, application_id: UUID, event_type: str, *, within: float = 20.0
    ) -> list[EventEnvelope]:
        """Poll the log until ``event_type`` is the application's last event."""
        deadline = time.monotonic() + within
        history: list[EventEnvelope] = []
        while time.monotonic() < deadline:
            history = await self.history(application_id)
            if history and history[-1].type == event_type:
                return history
            await asyncio.sleep(0.05)
        raise TimeoutError(
            f"{application_id}: no {event_type} after {within} s; events "
            f"{[e.type for e in history]}\n{self.logs()}"
        )

    async def wait_terminal(
        self, ids: Sequence[UUID], *, within: float = 20.0
    ) -> dict[UUID, list[EventEnvelope]]:
        deadline = time.monotonic() + within
        done: dict[UUID, list[EventEnvelope]] = {}
        while time.monotonic() < deadline:
            for application_id in ids:
                if application_id not in done:
                    history = await self.history(application_id)
                    if history and status_of(history[-1].type).is_terminal:
                        done[application_id] = history
            if len(done) == len(ids):
                return done
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{len(done)} of {len(ids)} terminal after {within} s\n{self.logs()}")

    async def broker(self) -> Redis:
        return create_redis(self.values["broker_url"])

    def logs(self) -> str:
        return "\n".join(f"--- {w.log.name}\n{w.output()[-3000:]}" for w in self.workers)


@pytest.fixture
def cloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCloud]:
    """The test's fake S3, Textract and Gemini; AWS credentials for every client (the fake does
    not check signatures, botocore insists on having some)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    options = {"s3_ms": 5, "textract_polls": TEXTRACT_POLLS, "textract_poll_ms": 20}
    with FakeCloud(tmp_path / "cloud.log", **options, gemini_ms=200, embedding_ms=50) as fake:
        yield fake


@pytest.fixture
async def site(
    redis_server: RedisServer, key_prefix: str, tmp_path: Path, cloud: FakeCloud
) -> AsyncIterator[Site]:
    db = 1 + next(_broker_dbs) % 15
    bucket = f"rf-{key_prefix}"
    cloud.create_bucket(bucket)
    values: dict[str, Any] = {
        "broker_url": f"redis://127.0.0.1:{redis_server.port}/{db}",
        "redis_url": redis_server.url,
        "stream_prefix": key_prefix,
        "queue": f"stages-{key_prefix}",
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}",
        "data_dir": tmp_path / "data",
        "blob_store": "real",
        "extractor": "real",
        "parser": "real",
        "embedder": "real",
        "s3_bucket": bucket,
        "s3_endpoint_url": cloud.url,
        "textract_endpoint_url": cloud.url,
        "gemini_base_url": cloud.url,
        "gemini_api_key": "test-key",
        "stage_timeout_seconds": 15,
        "task_soft_time_limit": 20,
        "task_time_limit": 30,
        "retry_base_seconds": 0.2,
        "retry_max_seconds": 1,
        "textract_poll_seconds": 0.5,
        "lost_task_retry_seconds": 0.5,
        "visibility_timeout": 60,
        "unacked_restore_seconds": 1,
        "sweep_every_seconds": 3600,
        "stuck_after_seconds": 3600,
    }
    broker = create_redis(values["broker_url"])
    await broker.flushdb()  # this test's own database on the test's own server
    await broker.aclose()
    engine = create_engine(values["database_url"])
    await upgrade(engine)
    await engine.dispose()
    settings = settings_from(values)
    runtime = await open_worker_runtime(settings)
    job = load_job_post(JOB_FILE)
    await runtime.services.job_posts.add(job)
    celery = create_celery(settings)
    site = Site(values, tmp_path, runtime, celery, job.id, cloud)
    try:
        yield site
    finally:
        for worker in site.workers:
            worker.stop()
        celery.close()
        await runtime.aclose()
