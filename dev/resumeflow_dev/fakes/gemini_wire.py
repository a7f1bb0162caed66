"""The Gemini REST API's wire format, as google-genai sends and reads it: routes and replies.

Shared by the benchmark's fake cloud (``server.py``) and the tests' scripted fake
(tests/fake_gemini.py), so both answer in the one shape the SDK expects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["PATH", "Reply", "embedding_reply", "error_reply", "text_reply"]

PATH = re.compile(
    r"^/(?P<version>v1(?:alpha|beta)?)/models/(?P<model>[^/:]+)"
    r":(?P<method>generateContent|batchEmbedContents|embedContent)$"
)
"""``POST /{version}/models/{model}:{method}``: the SDK sends v1 by default, older ones v1beta."""


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # JSON-serializable

    def encoded(self) -> bytes:
        return json.dumps(self.body).encode()


def text_reply(text: str, *, model: str = "gemini-2.5-flash") -> Reply:
    """A generateContent answer whose one candidate says ``text``."""
    return Reply(
        200,
        {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": text}]},
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": 100,
                "candidatesTokenCount": 50,
                "totalTokenCount": 150,
            },
            "modelVersion": model,
        },
    )


def embedding_reply(vectors: Iterable[Sequence[float]]) -> Reply:
    """A batchEmbedContents answer with one embedding per vector."""
    return Reply(200, {"embeddings": [{"values": list(v)} for v in vectors]})


_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def error_reply(status: int, message: str = "scripted failure") -> Reply:
    """An error in the shape Google APIs use: ``{"error": {code, message, status}}``."""
    name = _STATUS_NAMES.get(status, "UNKNOWN")
    return Reply(status, {"error": {"code": status, "message": message, "status": name}})
