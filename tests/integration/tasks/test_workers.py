"""Real worker processes run submitted applications to the end, each stage's event once."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from collections import Counter

import pytest
from PIL import Image, ImageDraw

from resumeflow.domain.documents import TextSource
from tests.integration.tasks.conftest import SUCCESS_TYPES, TEXTRACT_POLLS, Site, env_of

pytestmark = pytest.mark.integration


def _scan(pages: int = 2) -> bytes:
    """An image-only PDF of ``pages`` pages: no text layer, so every page goes to Textract."""
    images = []
    for n in range(pages):
        image = Image.new("L", (300, 400), 255)
        ImageDraw.Draw(image).rectangle((40, 40 + 30 * n, 260, 80 + 30 * n), fill=0)
        images.append(image)
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:])
    return out.getvalue()


async def test_applications_complete_with_every_stage_event_once(site: Site) -> None:
    site.worker("w1")
    texts = await site.submit(3)
    (scan,) = await site.submit(1, data=_scan(), filename="scan.pdf")
    site.dispatch([*texts, scan])

    histories = await site.wait_terminal([*texts, scan])

    for history in histories.values():
        assert [e.type for e in history] == list(SUCCESS_TYPES)
        assert [e.version for e in history] == list(range(1, len(SUCCESS_TYPES) + 1))
    methods = {
        application_id: {page.source for page in history[2].payload.pages}  # type: ignore[attr-defined]
        for application_id, history in histories.items()
    }
    assert methods == {**{t: {TextSource.TEXT_LAYER} for t in texts}, scan: {TextSource.OCR}}
    stats = site.cloud.stats()
    # one job, asked for TEXTRACT_POLLS times while IN_PROGRESS and once more for its text
    assert stats["textract.GetDocumentTextDetection"] == TEXTRACT_POLLS + 1, stats
    assert stats["gemini.generateContent"] == 4  # the post's embedding may race: not counted


async def test_celery_inspect_sees_the_worker_started_by_the_cli(site: Site) -> None:
    worker = site.worker("w1", cli=True, concurrency=4)
    node = f"w1-{site.settings.log.stream_prefix}@{socket.gethostname()}"

    def inspect(command: str) -> dict[str, object]:
        argv = ["celery", "-A", "resumeflow.tasks", "inspect", command, "--json"]
        done = subprocess.run(
            [sys.executable, "-m", *argv, f"--destination={node}", "--timeout=10"],
            env=os.environ | env_of(site.values),
            cwd=site.tmp,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        reply: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
        return reply

    stats = inspect("stats")
    assert list(stats) == [node]
    assert stats[node]["pool"]["implementation"].endswith("thread:TaskPool")  # type: ignore[index]
    assert stats[node]["pool"]["max-concurrency"] == 4  # type: ignore[index]
    assert inspect("active") == {node: []}
    ids = await site.submit(1)
    site.dispatch(ids)
    (history,) = (await site.wait_terminal(ids)).values()
    assert Counter(e.type for e in history) == Counter(SUCCESS_TYPES)
    assert worker.process.poll() is None
