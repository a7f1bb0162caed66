"""``python -m resumeflow_dev.fakes``: serve the fake cloud; prints ``{"url": ...}`` once bound."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

from aiohttp import web

from resumeflow_dev.fakes.server import DEFAULT_OCR_TEXT, FakeCloudConfig, make_app


def _config(argv: list[str] | None) -> tuple[FakeCloudConfig, str, int]:
    parser = argparse.ArgumentParser(prog="python -m resumeflow_dev.fakes", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--s3-ms", type=float, default=20.0)
    parser.add_argument("--textract-polls", type=int, default=3)
    parser.add_argument("--textract-poll-ms", type=float, default=300.0)
    parser.add_argument("--gemini-ms", type=float, default=800.0)
    parser.add_argument("--embedding-ms", type=float, default=150.0)
    parser.add_argument(
        "--gemini-fault-rate", type=float, default=0.0, help="429/500/hang/bad JSON"
    )
    parser.add_argument("--gemini-hang-s", type=float, default=30.0, help="how long a hang lasts")
    parser.add_argument("--s3-fault-rate", type=float, default=0.0, help="503 SlowDown")
    parser.add_argument("--ocr-text", type=Path, help="a file whose text every OCR'd page reads as")
    parser.add_argument("--seed", type=int, help="of the fault draws")
    args = parser.parse_args(argv)
    config = FakeCloudConfig(
        s3=args.s3_ms / 1000,
        textract_polls=args.textract_polls,
        textract_poll=args.textract_poll_ms / 1000,
        gemini=args.gemini_ms / 1000,
        embedding=args.embedding_ms / 1000,
        gemini_fault_rate=args.gemini_fault_rate,
        gemini_hang=args.gemini_hang_s,
        s3_fault_rate=args.s3_fault_rate,
        ocr_text=args.ocr_text.read_text() if args.ocr_text else DEFAULT_OCR_TEXT,
        seed=args.seed,
    )
    return config, args.host, args.port


async def _serve(config: FakeCloudConfig, host: str, port: int) -> None:
    runner = web.AppRunner(make_app(config), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    bound_host, bound_port = runner.addresses[0][:2]
    print(json.dumps({"url": f"http://{bound_host}:{bound_port}"}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    config, host, port = _config(argv)
    asyncio.run(_serve(config, host, port))


if __name__ == "__main__":
    main(sys.argv[1:])
