"""Structured logs: one JSON object per line in production, readable lines in dev.

Every line carries the request id and the trace id of what caused it: the HTTP request (its
``X-Request-ID``, or a new id), the cross-plugin calls it makes (the id travels in-process through
a context variable and over HTTP as ``X-Request-ID``), and each run of a background job (its own
id). Values given as ``extra={"order_id": ...}`` become fields of the JSON object.

Nothing secret is written: the host never logs request bodies, headers or GraphQL variables, and
the formatter masks anything that looks like a JWT, a Stripe key or webhook secret, or a bearer
token, as a second line of defence. Library loggers that would print SQL parameters or URLs
(``sqlalchemy``, ``httpx``) are kept at WARNING.

Settings: ``BYWAY_LOG_FORMAT`` (``auto`` = ``json`` in production, ``text`` in dev; or ``json``,
``text``) and ``BYWAY_LOG_LEVEL`` (``INFO``). ``byway serve`` applies them; an embedding
application may call :func:`setup_logging` itself.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from byway.tracing import current_ids

if TYPE_CHECKING:
    from byway.settings import Settings

#: The id of the request (or job run) being served; ``-`` outside any.
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("byway_request_id", default="-")

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

#: Patterns masked in every formatted line.
_SECRETS = [
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+"), "[jwt]"),
    (re.compile(r"\b(sk|rk|pk)_(live|test)_[A-Za-z0-9]+"), "[stripe-key]"),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]+"), "[webhook-secret]"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer [token]"),
]

#: Attributes every LogRecord has; anything else was given in ``extra`` and becomes a JSON field.
#: ``color_message`` is uvicorn's ANSI-coloured copy of its own message: noise in both formats.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}
_CONTEXT_FIELDS = {"request_id", "trace_id", "span_id"}

#: Loggers kept at WARNING whatever the level: they would log SQL parameters or full URLs.
QUIET_LOGGERS = ("sqlalchemy", "aiosqlite", "httpx", "httpcore", "stripe", "asyncio", "uvicorn.access")


def _is_extra(key: str) -> bool:
    return key not in _STANDARD and key not in _CONTEXT_FIELDS and not key.startswith("_")


def new_request_id() -> str:
    """A fresh request id (16 hex digits)."""
    return secrets.token_hex(8)


def accepted_request_id(value: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is a plausible id, else a new one."""
    if value and _VALID_REQUEST_ID.fullmatch(value):
        return value
    return new_request_id()


def redact(text: str) -> str:
    """``text`` with anything that looks like a token or secret masked."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class ContextFilter(logging.Filter):
    """Adds ``request_id``, ``trace_id`` and ``span_id`` to every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        trace_id, span_id = current_ids()
        record.trace_id = trace_id or "-"
        record.span_id = span_id or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, ids, extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "trace_id": getattr(record, "trace_id", "-"),
            "span_id": getattr(record, "span_id", "-"),
        }
        for key, value in vars(record).items():
            if _is_extra(key):
                entry[key] = value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """A readable line for development: time, level, logger, message, request and trace ids."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [req=%(request_id)s trace=%(trace_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        for name in _CONTEXT_FIELDS:
            if not hasattr(record, name):
                setattr(record, name, "-")
        extras = {k: v for k, v in vars(record).items() if _is_extra(k)}
        line = super().format(record)
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return redact(line)


def log_format(settings: Settings) -> str:
    """``json`` or ``text``, from ``log_format`` (``auto`` follows the environment)."""
    if settings.log_format == "auto":
        return "json" if settings.is_production else "text"
    return settings.log_format


def make_handler(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """A handler writing to ``stream`` (stderr) in the configured format, with the context filter."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format(settings) == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    handler.set_name("byway")
    return handler


def setup_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Configure the root logger for a server process: one Byway handler, quiet libraries.

    Replaces a handler installed by an earlier call (idempotent); returns the handler.
    """
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "byway":
            root.removeHandler(existing)
    handler = make_handler(settings, stream)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # uvicorn's own loggers print through the root handler, in the same format.
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return handler
