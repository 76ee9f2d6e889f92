"""Logging for the long-running process: stderr, one line per event, text or JSON.

One line per event matters to log collectors (journald, docker, Loki): a multi-line traceback
would arrive as several unrelated events. Text lines escape their newlines; JSON lines carry the
traceback in a field.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import IO, Literal

LogFormat = Literal["text", "json"]
FORMATS: tuple[LogFormat, ...] = ("text", "json")
# Third-party loggers that are chatty at INFO; their warnings still get through.
QUIET = ("apscheduler", "slack_sdk", "urllib3")


class TextFormatter(logging.Formatter):
    """`2026-01-05T21:00:00Z INFO arxivwatch.scheduler: message` with newlines escaped."""

    def format(self, record: logging.LogRecord) -> str:
        line = (f"{_stamp(record)} {record.levelname} {record.name}: "
                f"{record.getMessage()}")
        if record.exc_info:
            line += " | " + self.formatException(record.exc_info)
        return line.replace("\n", "\\n")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and exception when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        event = {"time": _stamp(record), "level": record.levelname, "logger": record.name,
                 "message": record.getMessage()}
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return json.dumps(event, ensure_ascii=False)


def _stamp(record: logging.LogRecord) -> str:
    when = dt.datetime.fromtimestamp(record.created, dt.UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def setup(fmt: LogFormat = "text", *, level: int = logging.INFO,
          stream: IO[str] | None = None) -> logging.Handler:
    """Send the root logger's records to stderr in `fmt`; replaces handlers set up before."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    return handler
