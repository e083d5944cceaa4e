"""Traces: a span per request, cross-plugin call and database use, one trace across plugins."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import tests.plugins.notes as notes
import tests.plugins.relay as relay
from byway.host import Host
from byway.settings import Settings
from byway.testing import live_server, running_app, scrape_metrics

RELAY_NOTES = "{ relayNotes }"
ADD = 'mutation Add { addNote(text: "hello") { id } }'


def without_jobs(spans: tuple[ReadableSpan, ...]) -> tuple[ReadableSpan, ...]:
    """The spans of requests (a plugin's background job runs in traces of its own)."""
    jobs = {s.context.trace_id for s in spans if s.name.startswith("job ")}
    return tuple(s for s in spans if s.context.trace_id not in jobs)


@contextmanager
def captured(host: Host) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    host.tracing.add_exporter(exporter)
    yield exporter


def by_plugin(spans: tuple[ReadableSpan, ...]) -> dict[str, list[ReadableSpan]]:
    found: dict[str, list[ReadableSpan]] = {}
    for span in spans:
        found.setdefault(str((span.attributes or {})["byway.plugin"]), []).append(span)
    return found


@pytest.mark.parametrize("transport", ["inprocess", "http"])
async def test_one_request_is_one_trace_across_plugins(byway_settings: Settings, transport: str) -> None:
    async with running_app([notes, relay], byway_settings, transport=transport) as app:
        token = app.token("u1")
        await app.gql("notes", ADD, token=token)
        with captured(app.host) as exporter:
            response = await app.client.post(
                "/api/relay/graphql", json={"query": RELAY_NOTES}, headers={"Authorization": f"Bearer {token}"}
            )
            assert response.json()["data"] == {"relayNotes": ["hello"]}
            spans = without_jobs(exporter.get_finished_spans())

    assert len({s.context.trace_id for s in spans}) == 1, [s.name for s in spans]
    plugins = by_plugin(spans)
    assert set(plugins) == {"relay", "notes"}
    (root,) = [s for s in spans if s.parent is None]
    assert (root.kind, root.attributes["byway.plugin"], root.name) == (
        SpanKind.SERVER,
        "relay",
        "POST relay relayNotes",
    )
    (call,) = [s for s in spans if s.kind == SpanKind.CLIENT]
    assert call.name == "call notes.RelayMyNotes" and call.parent.span_id == root.context.span_id
    assert call.attributes["byway.transport"] == transport
    # The target's server span is the call's child: in-process through the context, over HTTP
    # through the traceparent header (uvicorn serves it in another task, so only the header links them).
    (served,) = [s for s in plugins["notes"] if s.kind == SpanKind.SERVER]
    assert served.parent.span_id == call.context.span_id
    (db,) = [s for s in plugins["notes"] if s.name == "db notes"]
    assert db.parent.span_id == served.context.span_id
    assert response.headers["x-request-id"] == root.attributes["byway.request_id"]


async def test_an_incoming_traceparent_and_request_id_are_continued(byway_settings: Settings) -> None:
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    headers = {"traceparent": f"00-{trace_id}-b7ad6b7169203331-01", "X-Request-ID": "req-42"}
    async with running_app([notes], byway_settings) as app:
        with captured(app.host) as exporter:
            response = await app.client.post("/api/notes/graphql", json={"query": "{ whoami }"}, headers=headers)
            spans = without_jobs(exporter.get_finished_spans())
    assert response.headers["x-request-id"] == "req-42"
    assert {format(s.context.trace_id, "032x") for s in spans} == {trace_id}
    # A request id that is not a plausible id is replaced.
    async with running_app([notes], byway_settings) as app:
        response = await app.client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert response.headers["x-request-id"] != "bad id\twith spaces" and len(response.headers["x-request-id"]) == 16


async def test_a_failed_call_marks_its_span(byway_settings: Settings) -> None:
    async with running_app([notes, relay], byway_settings) as app:
        with captured(app.host) as exporter:
            await app.gql("relay", RELAY_NOTES)  # anonymous: notes refuses
            spans = without_jobs(exporter.get_finished_spans())
    (call,) = [s for s in spans if s.kind == SpanKind.CLIENT]
    assert call.attributes["byway.error.code"] == "UNAUTHENTICATED"
    assert not call.status.is_ok


async def test_spans_are_exported_to_an_otlp_endpoint(byway_settings: Settings) -> None:
    """With BYWAY_OTLP_ENDPOINT set, spans reach an OTLP/HTTP receiver (a local one here)."""
    received: list[bytes] = []

    async def traces(request: Request) -> Response:
        received.append(await request.body())
        return Response(b"", media_type="application/x-protobuf")

    collector = Starlette(routes=[Route("/v1/traces", traces, methods=["POST"])])
    async with live_server(collector) as base_url:
        settings = byway_settings.with_overrides(otlp_endpoint=f"{base_url}/v1/traces", service_name="byway-test")
        async with running_app([notes], settings) as app:
            await app.gql("notes", "{ whoami }")
            await asyncio.to_thread(app.host.tracing.flush)
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    names = set()
    services = set()
    for body in received:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            for attribute in resource_spans.resource.attributes:
                if attribute.key == "service.name":
                    services.add(attribute.value.string_value)
            for scope in resource_spans.scope_spans:
                names.update(span.name for span in scope.spans)
    assert services == {"byway-test"}
    assert "POST notes whoami" in names


async def test_a_plugins_own_session_blocks_are_spans_too(byway_settings: Settings) -> None:
    async with running_app([notes], byway_settings) as app:
        runtime = app.host.plugins["notes"]
        await app.host.open()  # opening again neither traces twice nor counts connections twice
        with captured(app.host) as exporter:
            with app.host.tracing.span("job notes.test", "notes"):
                async with runtime.sessions() as session:
                    await session.execute(text("SELECT 1"))
            spans = exporter.get_finished_spans()
        samples = await scrape_metrics(app.client)
    (job,) = [s for s in spans if s.name == "job notes.test"]
    (db,) = [s for s in spans if s.name == "db notes"]
    assert db.parent.span_id == job.context.span_id
    assert samples.value("byway_db_pool_connections_in_use", plugin="notes") == 0


def test_without_an_exporter_spans_record_nothing_but_keep_real_ids(byway_settings: Settings) -> None:
    """No exporter: spans are non-recording (cheap) yet continue the trace, so logs and
    ``traceparent`` carry the same ids as when exporting."""
    from byway import tracing

    host = Host(byway_settings, [])
    assert not host.tracing.exporting
    with host.tracing.span("outer", "p") as outer:
        outer_ids = tracing.current_ids()
        with host.tracing.span("inner", "p") as inner:
            inner_ids = tracing.current_ids()
            headers: dict[str, str] = {}
            tracing.inject(headers)
    assert not outer.is_recording() and not inner.is_recording()
    assert outer_ids[0] is not None and inner_ids[0] == outer_ids[0] and inner_ids[1] != outer_ids[1]
    assert headers["traceparent"] == f"00-{inner_ids[0]}-{inner_ids[1]}-01"
    assert tracing.current_ids() == (None, None)  # the context is restored on exit
    # An incoming traceparent (not sampled upstream) is continued with its flags.
    parent = tracing.extract({"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"})
    with host.tracing.span("served", "p", parent=parent) as served:
        served_ids = tracing.current_ids()
        headers = {}
        tracing.inject(headers)
    assert served_ids[0] == "0af7651916cd43dd8448eb211c80319c" and served_ids[1] != "b7ad6b7169203331"
    assert headers["traceparent"].endswith("-00") and not served.is_recording()
    # With an exporter the same calls record SDK spans.
    with captured(host) as exporter, host.tracing.span("recorded", "p") as recorded:
        assert recorded.is_recording()
    assert [s.name for s in exporter.get_finished_spans()] == ["recorded"]


def test_detail_spans_exist_only_when_exported(byway_settings: Settings) -> None:
    """A hot-path step (an in-process call, a reader block) opens no span without an exporter:
    the current span stays current, so log lines inside it carry the request's ids."""
    from byway import tracing

    host = Host(byway_settings, [])
    with host.tracing.span("request", "p") as request:
        request_ids = tracing.current_ids()
        with host.tracing.detail_span("call x.Y", "p", kind=SpanKind.CLIENT) as call:
            assert call is request and tracing.current_ids() == request_ids
    with captured(host) as exporter, host.tracing.span("request", "p"):
        with host.tracing.detail_span("call x.Y", "p", kind=SpanKind.CLIENT) as call:
            assert call.is_recording() and tracing.current_ids()[1] != request_ids[1]
    assert [s.name for s in exporter.get_finished_spans()] == ["call x.Y", "request"]

