"""The distributed mode as processes: servers, ``resumeflow migrate``, a worker, the projector
and the API, each configured only through the environment."""

from __future__ import annotations

import subprocess
from pathlib import Path
from uuid import uuid4

from tests.e2e.harness import BIN, ApiProcess, base_env, resumeflow
from tests.servers import PostgresServer, RedisServer, free_port

__all__ = ["Stack"]


class Stack:
    """Servers, then ``resumeflow migrate``, a worker, the projector and the API."""

    def __init__(self, tmp: Path, **env: str) -> None:
        self.tmp = tmp
        self.extra = env
        self.redis = RedisServer.durable(tmp / "redis")
        self.pg = PostgresServer()
        self.processes: list[subprocess.Popen[bytes]] = []
        self.api: ApiProcess | None = None
        self.worker_metrics = free_port()
        self.projector_metrics = free_port()

    def start(self) -> None:
        self.redis.start()
        self.pg.start()
        self.env = base_env(
            self.tmp / "data",
            RESUMEFLOW_DATABASE_URL=self.pg.url,
            RESUMEFLOW_REDIS_URL=self.redis.url,
            RESUMEFLOW_BROKER_URL=self.redis.url.rsplit("/", 1)[0] + "/1",
            RESUMEFLOW_CONSUMER_NAME="projector-e2e",
            RESUMEFLOW_CLAIM_IDLE_MS="2000",
            RESUMEFLOW_MAX_DELIVERIES="2",
            RESUMEFLOW_RETRY_BASE_SECONDS="0.05",
            **self.extra,
        )
        resumeflow(["migrate"], self.env)
        for name, args in (
            (
                "worker",
                [
                    "worker",
                    "--concurrency",
                    "8",
                    "--hostname",
                    f"e2e-{uuid4().hex[:6]}@%h",
                    "--metrics-port",
                    str(self.worker_metrics),
                ],
            ),
            ("projector", ["projector", "--metrics-port", str(self.projector_metrics)]),
        ):
            with (self.tmp / f"{name}.log").open("ab") as out:
                self.processes.append(
                    subprocess.Popen(
                        [str(BIN), *args], env=self.env, stdout=out, stderr=subprocess.STDOUT
                    )
                )
        self.api = ApiProcess(self.env, self.tmp / "api.log")
        self.api.start()

    def stop(self) -> None:
        if self.api is not None:
            self.api.stop()
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.pg.cleanup()
        self.redis.cleanup()
