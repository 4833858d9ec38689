"""Logs an operator can search: one JSON object a line, each carrying the request it belongs to.

The request id lives in a context variable set by the web middleware, so every line logged
while a request runs (by ISOM, SQLAlchemy or uvicorn) names it without being passed around.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import os
import sys
from typing import Any

#: The id of the request being served, or None outside a request.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "isom_request_id", default=None
)

# Attributes every LogRecord has: what is left over was passed with `extra=` and is logged too.
# uvicorn's color_message repeats the message with terminal colour codes.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
}


_base_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    record.request_id = request_id.get()
    return record


def stamp_request_ids() -> None:
    """Give every log record, from any logger and to any handler, the current request id
    as `record.request_id`, taken when the line is logged (idempotent)."""
    if logging.getLogRecordFactory() is not _record_with_request_id:
        logging.setLogRecordFactory(_record_with_request_id)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, request id and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "pid": record.process,  # which of several server processes
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in body:
                body[name] = value
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure(fmt: str | None = None, level: str | None = None) -> None:
    """Send every log line to stderr as JSON (`ISOM_LOG_FORMAT=json`, the default) or as text.

    The level comes from `ISOM_LOG_LEVEL` (INFO by default). Replaces the root logger's
    handlers, so call it once, at the start of a long-running process (`isom serve`).
    """
    stamp_request_ids()
    fmt = (fmt or os.environ.get("ISOM_LOG_FORMAT", "json")).lower()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel((level or os.environ.get("ISOM_LOG_LEVEL", "INFO")).upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # uvicorn's own handlers would print a second, unstructured copy of each line.
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
