"""Logging of the long-running processes: text for a terminal, JSON lines for a collector.

Every record carries the trace and span ids of the span current when it was logged, so a log
line leads to its trace. Records name applications by id only: nothing logged says what a resume
contains, nor an applicant's name or email.
"""

from __future__ import annotations

import logging
from typing import Literal

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

__all__ = ["LogFormat", "configure_logging"]

LogFormat = Literal["text", "json"]


class _TraceIds(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        record.trace_id = format(context.trace_id, "032x") if context.is_valid else None
        record.span_id = format(context.span_id, "016x") if context.is_valid else None
        return True


def configure_logging(log_format: LogFormat = "text", level: str = "INFO") -> None:
    """Set up the root logger (once per process; later calls replace the handler)."""
    handler = logging.StreamHandler()
    handler.addFilter(_TraceIds())
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(trace_id)s %(span_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
