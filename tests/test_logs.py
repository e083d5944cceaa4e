"""Structured logs: JSON lines with request and trace ids everywhere, readable text in dev, no secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import tests.plugins.notes as notes
import tests.plugins.relay as relay
from byway.logs import JsonFormatter, TextFormatter, make_handler, redact, setup_logging
from byway.settings import Settings
from byway.testing import running_app


@contextmanager
def json_lines(settings: Settings, logger: str = "byway") -> Iterator[list[dict[str, Any]]]:
    """Every line the ``byway`` loggers write inside the block, in production's JSON format, parsed."""
    stream = io.StringIO()
    handler = make_handler(settings.with_overrides(log_format="json"), stream)
    target = logging.getLogger(logger)
    previous = target.level
    target.addHandler(handler)
    target.setLevel(logging.DEBUG)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        target.removeHandler(handler)
        target.setLevel(previous)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())


def record(message: str, *args: Any, **extra: Any) -> logging.LogRecord:
    rec = logging.LogRecord("byway.test", logging.INFO, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def test_a_json_line_has_the_ids_and_the_extra_fields() -> None:
    line = JsonFormatter().format(record("outbox row %s delivered", "r1", order_id="o1", attempt=2))
    entry = json.loads(line)
    assert entry["message"] == "outbox row r1 delivered"
    assert (entry["level"], entry["logger"], entry["order_id"], entry["attempt"]) == ("INFO", "byway.test", "o1", 2)
    assert {"ts", "request_id", "trace_id", "span_id"} <= set(entry)
    assert "\n" not in line


def test_uvicorns_coloured_copy_of_its_message_is_not_repeated() -> None:
    rec = record("Started server process [%d]", 42, color_message="Started server process [\x1b[36m%d\x1b[0m]")
    assert TextFormatter().format(rec).endswith("Started server process [42]")
    assert "color_message" not in json.loads(JsonFormatter().format(rec))


@pytest.mark.parametrize(
    "secret",
    [
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJlc2lnbmF0dXJl",
        "sk_test_51ABCdefGHIjkl",
        "whsec_abcdefABCDEF0123",
    ],
)
def test_anything_looking_like_a_token_or_key_is_masked(secret: str) -> None:
    for formatter in (JsonFormatter(), TextFormatter()):
        line = formatter.format(record("got %s and Bearer abc.def-123", secret))
        assert secret not in line and "abc.def-123" not in line
    assert redact(f"token={secret}") != f"token={secret}"


@pytest.mark.parametrize("transport", ["inprocess", "http"])
async def test_every_line_of_a_request_and_its_calls_has_its_request_and_trace_id(
    byway_settings: Settings, transport: str
) -> None:
    async with running_app([notes, relay], byway_settings, transport=transport) as app:
        token = app.token("u1")
        with json_lines(byway_settings) as lines:
            response = await app.client.post(
                "/api/relay/graphql",
                json={"query": "{ relayNotes }"},
                headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-7"},
            )
        assert response.status_code == 200
    mine = [line for line in lines if line["request_id"] == "req-7"]
    loggers = {line["logger"] for line in mine}
    # The request's access line, the call's line and, over HTTP, the target's own access line.
    assert {"byway.access", "byway.client"} <= loggers
    access = [line for line in mine if line["logger"] == "byway.access"]
    assert {line["plugin"] for line in access} == ({"relay", "notes"} if transport == "http" else {"relay"})
    assert len({line["trace_id"] for line in mine}) == 1 and mine[0]["trace_id"] != "-"
    # Lines outside any request (the notes plugin's job) are not mislabelled.
    assert all(line["request_id"] in ("req-7",) or line["request_id"].startswith("job-") for line in lines)


def test_setup_logging_is_json_in_production_text_in_dev_and_quiets_sql(byway_settings: Settings) -> None:
    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        stream = io.StringIO()
        setup_logging(byway_settings.with_overrides(env="production", jwt_secret="x" * 40), stream)
        handler = setup_logging(byway_settings.with_overrides(env="production", jwt_secret="x" * 40), stream)
        assert [h for h in root.handlers if h.get_name() == "byway"] == [handler]
        assert isinstance(handler.formatter, JsonFormatter)
        assert logging.getLogger("sqlalchemy.engine").getEffectiveLevel() == logging.WARNING
        logging.getLogger("byway.test").info("hello %s", "world")
        assert json.loads(stream.getvalue().splitlines()[-1])["message"] == "hello world"
        dev = setup_logging(byway_settings, io.StringIO())
        assert isinstance(dev.formatter, TextFormatter)
    finally:
        for h in list(root.handlers):
            if h.get_name() == "byway":
                root.removeHandler(h)
        root.handlers[:] = before[0]
        root.setLevel(before[1])


async def test_probes_are_logged_at_debug_unless_they_fail(byway_settings: Settings) -> None:
    async with running_app([notes], byway_settings) as app:
        with json_lines(byway_settings) as lines:
            await app.client.get("/healthz")
            await app.client.get("/metrics")
            await app.client.post("/api/notes/graphql", json={"query": "{ whoami }"})
    levels = {line["operation"]: line["level"] for line in lines if line["logger"] == "byway.access"}
    assert levels == {"/healthz": "DEBUG", "/metrics": "DEBUG", "whoami": "INFO"}
