"""Structured logs: one JSON object per line, with the request id and the call's CallSid.

The ids come from context variables that a small ASGI middleware (console.metrics) and the
Twilio signature check (ivr.signature) set; setting one costs a fraction of a microsecond, so
the webhooks pay nothing measurable. Log lines must carry no personal data (docs/operations.md):
the code never logs callers' numbers, and as a second line of defence the formatter masks
anything that looks like a phone number, a national ID or an e-mail address in the message.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import sys
import time
from contextvars import ContextVar
from typing import Any, TextIO

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
CALL_SID: ContextVar[str | None] = ContextVar("call_sid", default=None)

# A phone number (7+ digits, single spaces between), an 11-digit national ID (also such a
# run), an e-mail address. CallSids (CA + 32 hex) are ids, not personal data, and carry
# letters, so the digit runs inside one are left alone; so are dates (2026-11-25).
_PERSONAL = re.compile(
    r"(?<![\w.+-])\+?\d(?: ?\d){6,}(?![\w-])"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MAYBE = re.compile(r"\d(?: ?\d){6}|@")
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)  # built once: json.dumps with
# arguments builds a new encoder per call
MASK = "[redacted]"
_PREFIX = f"{os.getpid():x}-"
_COUNTER = itertools.count(1)

_PLAIN = len(logging.LogRecord("", 0, "", 0, "", None, None).__dict__)
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message", "asctime", "taskName"}


def new_request_id() -> str:
    """A request id unique in this process's life (pid and a counter: no randomness needed)."""
    return _PREFIX + format(next(_COUNTER), "x")


def redact(text: str) -> str:
    """The text with phone numbers, national IDs and e-mail addresses masked."""
    # Most lines have no 7-digit run and no @: a quick search spares them the full pattern.
    return _PERSONAL.sub(MASK, text) if _MAYBE.search(text) else text


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: time, level, logger, message, ids, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as JSON."""
        created = record.created
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
            + f".{int(created % 1 * 1000):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        rid, sid = REQUEST_ID.get(), CALL_SID.get()
        if rid:
            out["request_id"] = rid
        if sid:
            out["call_sid"] = sid
        attrs = record.__dict__
        # Fields given with extra={...}; a plain record has only the standard attributes.
        extra = attrs.keys() - _STANDARD if len(attrs) > _PLAIN else ()
        for key in extra:
            if not key.startswith("_") and key not in out:
                value = attrs[key]
                out[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info and record.exc_info[0] is not None:
            # The exception's type only: its message or traceback may hold a caller's data.
            out["exc_type"] = record.exc_info[0].__name__
        return _ENCODER.encode(out)


def configure(level: str = "INFO", stream: TextIO | None = None) -> logging.Handler:
    """Send every logger (uvicorn's too) as JSON lines to `stream` (stderr by default)."""
    # The logging HOWTO's "Optimization": our lines carry none of the caller's file and line,
    # thread or process, so the records need not look them up (a few microseconds each).
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
    return handler
