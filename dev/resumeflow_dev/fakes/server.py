"""One aiohttp server that answers as S3, Textract and the Gemini REST API do, slowly on purpose.

The workers talk to it with their real clients (aioboto3, google-genai) through the endpoint
settings (``RESUMEFLOW_S3_ENDPOINT_URL``, ``..._TEXTRACT_ENDPOINT_URL``, ``..._GEMINI_BASE_URL``),
so everything on the worker's side of the network is production code. What the services do on
their own machines (storage, OCR, the model) is not ours to measure: the fake answers from memory
or with canned output, after sleeping the configured latency at the edge.

- S3 (path-style, as ``s3_config`` asks): PUT/GET/HEAD/DELETE of objects, PUT/HEAD of buckets;
  objects live in memory. aws-chunked uploads are decoded.
- Textract (``X-Amz-Target``): ``DetectDocumentText`` waits ``polls x poll`` and answers; a job
  (``StartDocumentTextDetection``, idempotent by ``ClientRequestToken``) is IN_PROGRESS for its
  first ``polls`` ``GetDocumentTextDetection`` calls, then SUCCEEDED. Every page reads as the
  fixed OCR text (LINE and WORD blocks).
- Gemini: ``generateContent`` answers a résumé JSON built from the prompt (first line, email);
  ``batchEmbedContents``/``embedContent`` answer deterministic vectors of the asked dimension.
- OTLP/HTTP ``POST /v1/traces``: accepted and dropped (a sink for tracing's overhead).
- Faults, for the chaos run: a share of Gemini calls answer 429, 500, a hang or malformed JSON;
  a share of S3 calls answer 503 SlowDown.
- ``GET /_fake/stats``: request counts by operation; ``POST /_fake/config`` with a JSON object
  of ``FakeCloudConfig`` fields (seconds, shares) changes them from the next request on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import json
import random
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from resumeflow_dev.fakes.gemini_wire import PATH, Reply, embedding_reply, error_reply, text_reply

__all__ = ["DEFAULT_OCR_TEXT", "FakeCloudConfig", "make_app"]

DEFAULT_OCR_TEXT = """Jordan Example
jordan.example@example.com | +1 555 0100 | Springfield
Senior Backend Engineer
Experience
Acme Corp, Backend Engineer, 2019 - present
Built Python services on PostgreSQL, Redis and AWS.
Education
State University, BSc Computer Science, 2015 - 2019
Skills
Python, SQL, Docker, Kubernetes, Redis"""

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_SKILLS = ("Python", "SQL", "PostgreSQL", "Redis", "Docker", "Kubernetes", "AWS", "Java", "Go")


@dataclass
class FakeCloudConfig:
    """Latencies in seconds, fault shares in [0, 1]."""

    s3: float = 0.02
    textract_polls: int = 3
    textract_poll: float = 0.3
    gemini: float = 0.8
    embedding: float = 0.15
    gemini_fault_rate: float = 0.0
    gemini_hang: float = 30.0
    s3_fault_rate: float = 0.0
    ocr_text: str = DEFAULT_OCR_TEXT
    seed: int | None = None


@dataclass
class _State:
    config: FakeCloudConfig
    random: random.Random
    buckets: set[str] = field(default_factory=set)
    objects: dict[tuple[str, str], tuple[bytes, str]] = field(default_factory=dict)
    jobs: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # id: text, pages, polls
    tokens: dict[str, str] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)
    stats: Counter[str] = field(default_factory=Counter)


_STATE = web.AppKey("state", _State)


# --- S3 -------------------------------------------------------------------------------------


def _s3_error(status: int, code: str, message: str) -> web.Response:
    body = f"<?xml version='1.0'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return web.Response(status=status, body=body.encode(), content_type="application/xml")


def _dechunk(raw: bytes) -> bytes:
    """An aws-chunked body (``size;...\\r\\ndata\\r\\n`` ... ``0\\r\\n`` trailers) as its data."""
    out, at = io.BytesIO(), 0
    while True:
        end = raw.index(b"\r\n", at)
        size = int(raw[at:end].split(b";", 1)[0], 16)
        if size == 0:
            return out.getvalue()
        out.write(raw[end + 2 : end + 2 + size])
        at = end + 2 + size + 2


async def _s3(request: web.Request) -> web.StreamResponse:
    state = request.app[_STATE]
    bucket, _, key = request.path.lstrip("/").partition("/")
    state.stats[f"s3.{request.method}"] += 1
    await asyncio.sleep(state.config.s3)
    if state.config.s3_fault_rate and state.random.random() < state.config.s3_fault_rate:
        state.stats["s3.fault"] += 1
        return _s3_error(503, "SlowDown", "Please reduce your request rate.")
    if not key:
        if request.method == "PUT":
            state.buckets.add(bucket)
            return web.Response(status=200, headers={"Location": f"/{bucket}"})
        if request.method == "HEAD":
            return web.Response(status=200 if bucket in state.buckets else 404)
        return _s3_error(405, "MethodNotAllowed", "not faked")
    if bucket not in state.buckets:
        return _s3_error(404, "NoSuchBucket", f"no bucket {bucket}")
    if request.method == "PUT":
        raw = await request.read()
        encoding = request.headers.get("Content-Encoding", "")
        payload = request.headers.get("x-amz-content-sha256", "")
        chunked = "aws-chunked" in encoding or payload.startswith("STREAMING-")
        data = _dechunk(raw) if chunked else raw
        content_type = request.headers.get("Content-Type", "binary/octet-stream")
        state.objects[(bucket, key)] = (data, content_type)
        return web.Response(status=200, headers={"ETag": f'"{hashlib.md5(data).hexdigest()}"'})
    if request.method == "DELETE":
        state.objects.pop((bucket, key), None)
        return web.Response(status=204)
    stored = state.objects.get((bucket, key))
    if stored is None:
        if request.method == "HEAD":
            return web.Response(status=404)
        return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
    data, content_type = stored
    headers = {"ETag": f'"{hashlib.md5(data).hexdigest()}"', "Content-Type": content_type}
    if request.method == "HEAD":
        return web.Response(status=200, headers={**headers, "Content-Length": str(len(data))})
    return web.Response(status=200, body=data, headers=headers)


# --- Textract -------------------------------------------------------------------------------


def _aws_json(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(body).encode(), content_type="application/x-amz-json-1.1"
    )


def _aws_error(code: str, message: str, status: int = 400) -> web.Response:
    return _aws_json({"__type": code, "message": message}, status)


def _page_count(state: _State, data: bytes) -> int:
    digest = hashlib.sha256(data).hexdigest()
    if digest not in state.pages:
        count = 1
        if data.startswith(b"%PDF"):
            import pypdf  # only documents that are PDFs pay for it, once each

            count = len(pypdf.PdfReader(io.BytesIO(data)).pages)
        state.pages[digest] = count
    return state.pages[digest]


def _blocks(text: str, pages: int) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for page in range(1, pages + 1):
        blocks.append({"BlockType": "PAGE", "Id": uuid.uuid4().hex, "Page": page})
        for line in filter(None, (line.strip() for line in text.splitlines())):
            blocks.append(
                {"BlockType": "LINE", "Id": uuid.uuid4().hex, "Page": page, "Text": line,
                 "Confidence": 98.5}
            )  # fmt: skip
            blocks.extend(
                {"BlockType": "WORD", "Id": uuid.uuid4().hex, "Page": page, "Text": word,
                 "Confidence": 98.5}
                for word in line.split()
            )  # fmt: skip
    return blocks


def _document(state: _State, body: dict[str, Any], field_name: str) -> tuple[bytes, str] | None:
    location = body.get(field_name, {}).get("S3Object", {})
    return state.objects.get((location.get("Bucket", ""), location.get("Name", "")))


async def _textract(request: web.Request, operation: str) -> web.Response:
    state = request.app[_STATE]
    config = state.config
    body = await request.json()
    state.stats[f"textract.{operation}"] += 1
    if operation == "DetectDocumentText":
        await asyncio.sleep(config.textract_polls * config.textract_poll)
        stored = _document(state, body, "Document")
        if stored is None:
            return _aws_error("InvalidS3ObjectException", "Unable to get object metadata from S3")
        pages = _page_count(state, stored[0])
        if pages > 1:
            return _aws_error("UnsupportedDocumentException", "Request has unsupported document")
        return _aws_json(
            {"DocumentMetadata": {"Pages": 1}, "Blocks": _blocks(config.ocr_text, 1),
             "DetectDocumentTextModelVersion": "1.0"}
        )  # fmt: skip
    if operation == "StartDocumentTextDetection":
        token = body.get("ClientRequestToken")
        if token and token in state.tokens:
            return _aws_json({"JobId": state.tokens[token]})
        stored = _document(state, body, "DocumentLocation")
        if stored is None:
            return _aws_error("InvalidS3ObjectException", "Unable to get object metadata from S3")
        job_id = uuid.uuid4().hex
        state.jobs[job_id] = (config.ocr_text, _page_count(state, stored[0]), 0)
        if token:
            state.tokens[token] = job_id
        return _aws_json({"JobId": job_id})
    if operation == "GetDocumentTextDetection":
        job = state.jobs.get(body.get("JobId", ""))
        if job is None:
            return _aws_error("InvalidJobIdException", "An invalid job identifier was passed.")
        text, pages, polls = job
        if polls < config.textract_polls:
            state.jobs[body["JobId"]] = (text, pages, polls + 1)
            return _aws_json({"JobStatus": "IN_PROGRESS"})
        return _aws_json(
            {"JobStatus": "SUCCEEDED", "DocumentMetadata": {"Pages": pages},
             "Blocks": _blocks(text, pages)}
        )  # fmt: skip
    return _aws_error("UnknownOperationException", f"{operation} is not faked")


# --- Gemini ---------------------------------------------------------------------------------


def _resume_json(prompt: str) -> str:
    """A plausible structured answer for the résumé text at the end of the prompt."""
    text = prompt.rsplit("--- resume ---", 1)[-1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    email = _EMAIL.search(text)
    lowered = text.casefold()
    answer = {
        "name": lines[0][:80] if lines else None,
        "email": email.group(0) if email else None,
        "skills": [skill for skill in _SKILLS if skill.casefold() in lowered],
        "work": [],
        "education": [],
        "links": [],
    }
    return json.dumps(answer)


def _vector(text: str, dimension: int) -> list[float]:
    rng = random.Random(hashlib.sha256(text.encode()).digest())
    return [rng.uniform(-1.0, 1.0) for _ in range(dimension)]


def _texts(content: dict[str, Any]) -> str:
    return "".join(part.get("text", "") for part in content.get("parts", []))


async def _gemini_fault(state: _State, method: str) -> Reply | None:
    config = state.config
    if not config.gemini_fault_rate or state.random.random() >= config.gemini_fault_rate:
        return None
    kinds = ["429", "500", "hang"] + (["malformed"] if method == "generateContent" else [])
    kind = state.random.choice(kinds)
    state.stats[f"gemini.fault.{kind}"] += 1
    if kind == "429":
        return error_reply(429, "Resource has been exhausted (e.g. check quota).")
    if kind == "500":
        return error_reply(500, "An internal error has occurred.")
    if kind == "hang":
        await asyncio.sleep(config.gemini_hang)
        return error_reply(503, "The service is currently unavailable.")
    return text_reply('{"name": "Truncated", "skills": [')


def _json_reply(reply: Reply) -> web.Response:
    return web.Response(status=reply.status, body=reply.encoded(), content_type="application/json")


async def _gemini(request: web.Request) -> web.Response:
    state = request.app[_STATE]
    match = PATH.match(request.path)
    if match is None:
        return _json_reply(error_reply(404, f"no route {request.path}"))
    method = match["method"]
    body = await request.json()
    state.stats[f"gemini.{method}"] += 1
    is_parse = method == "generateContent"
    await asyncio.sleep(state.config.gemini if is_parse else state.config.embedding)
    reply = await _gemini_fault(state, method)
    if reply is None:
        if is_parse:
            prompt = "".join(_texts(c) for c in body.get("contents", []))
            reply = text_reply(_resume_json(prompt), model=match["model"])
        elif method == "batchEmbedContents":
            requests = body.get("requests", [])
            reply = embedding_reply(
                _vector(_texts(r.get("content", {})), int(r.get("outputDimensionality") or 3072))
                for r in requests
            )
        else:
            dimension = int(body.get("outputDimensionality") or 3072)
            reply = Reply(
                200, {"embedding": {"values": _vector(_texts(body["content"]), dimension)}}
            )
    return _json_reply(reply)


# --- routing --------------------------------------------------------------------------------


async def _post(request: web.Request) -> web.StreamResponse:
    target = request.headers.get("X-Amz-Target", "")
    if target.startswith("Textract."):
        return await _textract(request, target.removeprefix("Textract."))
    if request.path == "/v1/traces":
        request.app[_STATE].stats["otlp.traces"] += 1
        await request.read()
        return web.Response(status=200, body=b"", content_type="application/x-protobuf")
    if request.path.startswith("/v1"):
        return await _gemini(request)
    return await _s3(request)


async def _stats(request: web.Request) -> web.Response:
    return web.json_response(dict(request.app[_STATE].stats))


async def _configure(request: web.Request) -> web.Response:
    config = request.app[_STATE].config
    changes = await request.json()
    unknown = set(changes) - set(FakeCloudConfig.__dataclass_fields__)
    if unknown:
        return web.json_response({"unknown": sorted(unknown)}, status=400)
    for name, value in changes.items():
        setattr(config, name, value)
    return web.json_response(dataclasses.asdict(config))


def make_app(config: FakeCloudConfig) -> web.Application:
    """The fake cloud as an aiohttp application (``python -m resumeflow_dev.fakes`` serves it)."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[_STATE] = _State(config=config, random=random.Random(config.seed))
    app.router.add_get("/_fake/stats", _stats)
    app.router.add_post("/_fake/config", _configure)
    app.router.add_post("/{tail:.*}", _post)
    app.router.add_route("*", "/{tail:.*}", _s3)
    return app
