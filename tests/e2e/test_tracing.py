"""One trace per application, seen by a real OTLP/HTTP receiver while the API, a Celery worker
and the projector run as processes on real Redis and Postgres."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.conftest import REPO_ROOT
from tests.e2e.harness import Keys
from tests.e2e.stack import Stack
from tests.servers import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@dataclass(frozen=True)
class Span:
    service: str
    trace_id: str
    span_id: str
    parent_id: str
    name: str
    attributes: dict[str, Any]
    links: tuple[str, ...]


class Receiver:
    """An OTLP/HTTP trace receiver: decodes each export with opentelemetry-proto."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver.take(request)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def take(self, request: ExportTraceServiceRequest) -> None:
        for resource_spans in request.resource_spans:
            service = next(
                a.value.string_value
                for a in resource_spans.resource.attributes
                if a.key == "service.name"
            )
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    attributes = {a.key: _value(a.value) for a in span.attributes}
                    with self.lock:
                        self.spans.append(
                            Span(
                                service=service,
                                trace_id=span.trace_id.hex(),
                                span_id=span.span_id.hex(),
                                parent_id=span.parent_span_id.hex(),
                                name=span.name,
                                attributes=attributes,
                                links=tuple(link.trace_id.hex() for link in span.links),
                            )
                        )

    def snapshot(self) -> list[Span]:
        with self.lock:
            return list(self.spans)


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()  # else the listening socket is left to the GC of a later test


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[Stack]:
    running = Stack(
        tmp_path_factory.mktemp("traced"),
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{receiver.port}",
        OTEL_BSP_SCHEDULE_DELAY="200",
        RESUMEFLOW_TRACE_URL="http://jaeger.example:16686/trace/{trace_id}",
        RESUMEFLOW_LOG_FORMAT="json",
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


def test_one_application_is_one_trace_across_the_api_the_worker_and_the_projector(
    stack: Stack, receiver: Receiver
) -> None:
    keys: Keys = stack.make_keys()
    with httpx.Client(base_url=stack.url, timeout=30) as http:
        post = http.post(
            "/v1/job-posts",
            json={"title": "Backend Engineer", "description": "Python, PostgreSQL, Redis"},
            headers=keys.auth(keys.operator),
        ).json()["id"]
        accepted = http.post(
            "/v1/applications",
            files={"file": ("resume.pdf", (REPO_ROOT / "examples" / "resume.pdf").read_bytes())},
            data={"name": "Ada", "email": "ada@example.org", "job_post_id": post},
            headers=keys.auth(keys.submitter),
        )
        assert accepted.status_code == 202, accepted.text
        app = accepted.json()["id"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = http.get(f"/v1/applications/{app}", headers=keys.auth(keys.reader)).json()
            if state["status"] in ("completed", "failed"):
                break
            time.sleep(0.3)
        assert state["status"] == "completed"
        steps = http.get(f"/v1/applications/{app}/events", headers=keys.auth(keys.reader)).json()
    trace_ids = {step["trace_id"] for step in steps["steps"]}
    assert len(trace_ids) == 1 and None not in trace_ids  # every event knows the one trace
    (trace_id,) = trace_ids
    assert {step["trace_link"] for step in steps["steps"]} == {
        f"http://jaeger.example:16686/trace/{trace_id}"
    }

    def mine() -> list[Span]:
        return [s for s in receiver.snapshot() if s.trace_id == trace_id]

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        services = {s.service for s in mine()}
        stored = [s for s in mine() if s.name == "projection apply"]
        # a task's span ends (and is exported) after its events are stored and projected
        ran = [s for s in mine() if s.name.startswith("run/")]
        if {"resumeflow-api", "resumeflow-worker", "resumeflow-projector"} <= services and (
            max((s.attributes.get("resumeflow.event.version", 0) for s in stored), default=0) == 7
            and len(ran) >= 5
        ):
            break
        time.sleep(0.3)
    spans = mine()
    print(f"\nspans of application {app}, by service and name:")  # shown with -s
    for (service, name), n in sorted(Counter((s.service, s.name) for s in spans).items()):
        print(f"  {service:22} {name:45} {n}")
    by_id = {s.span_id: s for s in spans}
    roots = [s for s in spans if not s.parent_id]
    assert [(r.service, r.name) for r in roots] == [("resumeflow-api", "POST /v1/applications")]
    assert all(s.parent_id in by_id for s in spans if s.parent_id)  # one tree, nothing dangling
    tasks = [s for s in spans if s.service == "resumeflow-worker" and s.name.startswith("run/")]
    assert len(tasks) >= 5  # a task per stage, each a child of the message that sent it
    assert all(s.attributes.get("resumeflow.application.id") == app for s in tasks)
    for task in tasks:
        parent = by_id[task.parent_id]
        assert parent.name.startswith("apply_async/")  # Celery's publish span
    projected = [s for s in spans if s.service == "resumeflow-projector"]
    assert projected and all(s.attributes["resumeflow.application.id"] == app for s in projected)
    assert all(by_id[s.parent_id].service in ("resumeflow-api", "resumeflow-worker")
               for s in projected)  # fmt: skip
    server = roots[0]
    assert server.attributes.get("resumeflow.application.id") == app
    logged = [json.loads(x) for x in stack.log("worker").read_text().splitlines()
              if x.startswith("{")]  # fmt: skip
    outcomes = [x for x in logged if x.get("application_id") == app and "stage" in x]
    assert len(outcomes) >= 5 and {x["trace_id"] for x in outcomes} == {trace_id}
    linked = [s for s in receiver.snapshot() if trace_id in s.links]
    assert linked  # the projector's deliveries link to the traces of their events

    settled = len(receiver.snapshot())
    while True:  # what was still being exported (the last requests' spans) arrives first
        time.sleep(2)
        if len(receiver.snapshot()) == settled:
            break
        settled = len(receiver.snapshot())
    time.sleep(10)  # idle: the workers poll the broker, the projector its feed
    later = receiver.snapshot()[settled:]
    assert later == [], f"idle polling must not be traced: {[(s.service, s.name) for s in later]}"
