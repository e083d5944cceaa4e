"""The cross-plugin client: both transports agree; retries, timeouts, identities, errors."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

import tests.plugins.notes as notes
import tests.plugins.relay as relay
from byway.auth import ANONYMOUS_PRINCIPAL, Principal
from byway.client import CrossPluginClient, CrossPluginError, HttpTransport, operation_name_of
from byway.errors import UpstreamUnavailable
from byway.settings import Settings
from byway.testing import FailingTransport, TestApp, error_codes, free_port, running_app

ADD = "mutation Add($text: String!) { addNote(text: $text) { id text authorId } }"
MINE = "query Mine { notes { id text authorId } }"
CALLER = "query ReadCaller { caller }"
SECRET = "query Secret { secretCount }"
NOTE = "query Note($id: ID!) { note(id: $id) { id text } }"
BOOM = "query Boom { boom }"
SLOW = "query Slow { slow(seconds: 3) }"


def relay_client(app: TestApp) -> CrossPluginClient:
    return app.host.plugins["relay"].client


def principal(app: TestApp, user_id: str) -> Principal:
    return app.host.tokens.verify(app.token(user_id))


async def outcome(client: CrossPluginClient, plugin: str, doc: str, variables: Any = None, *, as_: Any) -> Any:
    """What a calling plugin sees: ``("data", data)`` or ``(code, extensions, message)``."""
    try:
        return ("data", await client.call(plugin, doc, variables, as_=as_))
    except CrossPluginError as exc:
        return (exc.code, exc.extensions, exc.remote_message)
    except UpstreamUnavailable as exc:
        return (exc.code,)


async def scenario(app: TestApp) -> list[Any]:
    """One cross-plugin scenario: direct client calls, then calls made by relay while serving a request."""
    client = relay_client(app)
    u1, u2 = principal(app, "u1"), principal(app, "u2")
    forged = Principal(kind="user", user_id="u1", token="not-a-token")
    results = [
        await outcome(client, "notes", ADD, {"text": "first"}, as_=u1),
        await outcome(client, "notes", ADD, {"text": "second"}, as_=u2),
        await outcome(client, "notes", MINE, as_=u1),
        await outcome(client, "notes", CALLER, as_=u1),
        await outcome(client, "notes", CALLER, as_="service"),
        await outcome(client, "notes", CALLER, as_=ANONYMOUS_PRINCIPAL),
        await outcome(client, "notes", SECRET, as_="service"),
        await outcome(client, "notes", SECRET, as_=u1),
        await outcome(client, "notes", MINE, as_=ANONYMOUS_PRINCIPAL),
        await outcome(client, "notes", MINE, as_=forged),
        await outcome(client, "notes", NOTE, {"id": "abc"}, as_=u1),
        await outcome(client, "notes", NOTE, {"id": "999"}, as_=u1),
        await outcome(client, "notes", NOTE, {"id": "1"}, as_=u1),
        await outcome(client, "notes", ADD, {"text": "   "}, as_=u1),
        await outcome(client, "notes", "query Bad { notes { title } }", as_=u1),
        await outcome(client, "notes", NOTE, {}, as_=u1),
        await outcome(client, "notes", BOOM, as_=u1),
        await outcome(client, "ghost", CALLER, as_="service"),
    ]
    token = app.token("u1")
    for query, variables in [
        ("{ relayWhoami }", None),
        ("{ relayWhoami(asService: true) }", None),
        ("{ relayNotes }", None),
        ("{ relaySecretCount }", None),
        ('mutation { relayAddNote(text: "third") }', None),
        ('query R($q: String!) { relay(plugin: "notes", query: $q) { data code message } }', {"q": SECRET}),
        ('query R($q: String!) { relay(plugin: "notes", query: $q, asService: true) { data code } }', {"q": SECRET}),
        ('query R($q: String!) { relay(plugin: "notes", query: $q) { data code message } }', {"q": "{ nope }"}),
    ]:
        body = await app.gql("relay", query, variables, token=token)
        results.append((body["_status"], body.get("data"), error_codes(body)))
    anonymous = await app.gql("relay", "{ relayNotes }")
    results.append((anonymous["_status"], anonymous.get("data"), error_codes(anonymous)))
    return results


EXPECTED = [
    ("data", {"addNote": {"id": "1", "text": "first", "authorId": "u1"}}),
    ("data", {"addNote": {"id": "2", "text": "second", "authorId": "u2"}}),
    ("data", {"notes": [{"id": "1", "text": "first", "authorId": "u1"}]}),
    ("data", {"caller": "user:u1"}),
    ("data", {"caller": "service:relay"}),
    ("data", {"caller": "anonymous"}),
    ("data", {"secretCount": 2}),
    ("FORBIDDEN", {}, "Only a service may do this"),
    ("UNAUTHENTICATED", {}, "You must be logged in"),
    ("UNAUTHENTICATED", {}, "Invalid or expired token"),
    ("NOT_FOUND", {}, "no note abc"),
    ("data", {"note": None}),
    ("data", {"note": {"id": "1", "text": "first"}}),
    ("BAD_USER_INPUT", {"field": "text"}, "text must not be empty"),
    ("BAD_USER_INPUT", {"reason": "validation"}, "Cannot query field 'title' on type 'Note'."),
    (
        "BAD_USER_INPUT",
        {"reason": "variables"},
        "Variable '$id' has invalid value: Expected a value of non-null type 'ID!' to be provided.",
    ),
    ("INTERNAL", {}, "Internal server error"),
    ("UPSTREAM_UNAVAILABLE",),
    (200, {"relayWhoami": "user:u1"}, []),
    (200, {"relayWhoami": "service"}, []),
    (200, {"relayNotes": ["first"]}, []),
    (200, {"relaySecretCount": 2}, []),
    (200, {"relayAddNote": "3"}, []),
    (200, {"relay": {"data": None, "code": "FORBIDDEN", "message": "Only a service may do this"}}, []),
    (200, {"relay": {"data": '{"secretCount": 3}', "code": None}}, []),
    (
        200,
        {
            "relay": {
                "data": None,
                "code": "BAD_USER_INPUT",
                "message": "Cannot query field 'nope' on type 'Query'. Did you mean 'note' or 'notes'?",
            }
        },
        [],
    ),
    (200, None, ["UNAUTHENTICATED"]),
]


@pytest.mark.parametrize("transport", ["inprocess", "http"])
async def test_both_transports_give_the_same_data_and_codes(settings: Settings, transport: str) -> None:
    async with running_app([notes, relay], settings.with_overrides(client_retries=1), transport=transport) as app:
        with app.host.observe_calls() as calls:
            results = await scenario(app)
    assert results == EXPECTED
    assert {c.transport for c in calls} == {transport}
    assert len(calls) == 18 + 9


async def test_call_records_name_caller_target_operation_and_identity(settings: Settings) -> None:
    async with running_app([notes, relay], settings, transport="inprocess") as app:
        with app.host.observe_calls() as calls:
            await relay_client(app).call("notes", CALLER, as_="service")
            await app.gql("relay", "{ relayWhoami }", token=app.token("u1"))
    assert [(c.caller, c.target, c.operation, c.as_kind, c.transport) for c in calls] == [
        ("relay", "notes", "ReadCaller", "service", "inprocess"),
        ("relay", "notes", "RelayWhoami", "user", "inprocess"),
    ]


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[TestApp]:
    fast = settings.with_overrides(client_retries=3, client_backoff_seconds=0.02)
    async with running_app([notes, relay], fast, transport="inprocess") as test_app:
        yield test_app


class TimedFailingTransport(FailingTransport):
    """A :class:`FailingTransport` that notes when each attempt happened."""

    def __init__(self, inner: Any, failures: int | None = None) -> None:
        super().__init__(inner, failures)
        self.times: list[float] = []

    async def send(self, *args: Any) -> tuple[int, dict[str, Any]]:
        self.times.append(time.monotonic())
        return await super().send(*args)


async def test_transient_failures_are_retried_with_backoff(app: TestApp) -> None:
    failing = TimedFailingTransport(app.host.transport_for("notes"), failures=2)
    with app.host.override_transport("notes", failing):
        assert await relay_client(app).call("notes", CALLER, as_="service") == {"caller": "service:relay"}
    assert failing.attempts == 3
    gaps = [b - a for a, b in zip(failing.times, failing.times[1:], strict=False)]
    assert gaps[0] >= 0.019 and gaps[1] >= 0.039  # 0.02 s, then doubled (less a clock tick)


async def test_retries_are_bounded_then_upstream_unavailable(app: TestApp) -> None:
    failing = FailingTransport(app.host.transport_for("notes"), failures=None)
    with app.host.override_transport("notes", failing), pytest.raises(UpstreamUnavailable) as failure:
        await relay_client(app).call("notes", CALLER, as_="service")
    assert failing.attempts == 1 + 3
    assert failure.value.code == "UPSTREAM_UNAVAILABLE"
    assert failure.value.extensions == {"plugin": "notes", "operation": "ReadCaller"}
    assert "notes.ReadCaller" in failure.value.message and "4 attempt(s)" in failure.value.message


async def test_upstream_unavailable_reaches_the_end_client_with_its_code(app: TestApp) -> None:
    failing = FailingTransport(app.host.transport_for("notes"), failures=None)
    with app.host.override_transport("notes", failing):
        body = await app.gql("relay", "{ relayWhoami }", token=app.token("u1"))
    assert body["_status"] == 200 and body["data"] is None
    assert body["errors"][0]["extensions"] == {
        "code": "UPSTREAM_UNAVAILABLE",
        "plugin": "notes",
        "operation": "RelayWhoami",
    }


async def test_business_errors_are_not_retried(app: TestApp) -> None:
    counting = FailingTransport(app.host.transport_for("notes"), failures=0)
    with app.host.override_transport("notes", counting), pytest.raises(CrossPluginError) as failure:
        await relay_client(app).call("notes", SECRET, as_=principal(app, "u1"))
    assert failure.value.code == "FORBIDDEN" and counting.attempts == 1
    assert str(failure.value) == "notes.Secret: [FORBIDDEN] Only a service may do this"


async def test_unknown_plugin_in_process(app: TestApp) -> None:
    with pytest.raises(UpstreamUnavailable, match="'ghost' is not loaded"):
        await relay_client(app).call("ghost", CALLER, as_="service")


async def test_call_needs_an_identity(app: TestApp) -> None:
    with pytest.raises(TypeError, match="as_"):
        await relay_client(app).call("notes", CALLER, as_="user")


@pytest.mark.parametrize("transport", ["inprocess", "http"])
async def test_timeout_per_call(settings: Settings, transport: str) -> None:
    quick = settings.with_overrides(client_retries=1, client_timeout_seconds=0.1)
    async with running_app([notes, relay], quick, transport=transport) as app:
        client = app.host.plugins["notes"].client
        started = time.monotonic()
        with pytest.raises(UpstreamUnavailable, match=r"relay\.Slow is unavailable") as failure:
            await client.call("relay", SLOW, as_="service")
        elapsed = time.monotonic() - started
        attempts = 1 if transport == "inprocess" else 2  # the in-process transport is never retried
        assert f"after {attempts} attempt(s)" in failure.value.message
        assert elapsed < 1.5 * attempts  # cut short: each attempt would take 3 s otherwise
        with pytest.raises(UpstreamUnavailable):
            await client.call("relay", "{ slow(seconds: 0.3) }", as_="service", timeout=0.05)
        assert await client.call("relay", "{ slow(seconds: 0.01) }", as_="service", timeout=10) == {"slow": "done"}


def flaky_proxy(target: Starlette, failures: int | None, status: int = 500, body: str = "exploded") -> Any:
    """A tiny app that answers ``status`` ``failures`` times (always for None), then proxies to ``target``."""
    seen: list[str] = []
    upstream = httpx.AsyncClient(transport=httpx.ASGITransport(app=target), base_url="http://byway")

    async def proxy(request: Request) -> Response:
        seen.append(request.url.path)
        if failures is None or len(seen) <= failures:
            return PlainTextResponse(body, status_code=status)
        headers = {k: v for k, v in request.headers.items() if k in {"authorization", "content-type"}}
        answer = await upstream.post(request.url.path, content=await request.body(), headers=headers)
        return Response(answer.content, status_code=answer.status_code, media_type="application/json")

    app = Starlette(routes=[Route("/api/{plugin}/graphql", proxy, methods=["POST"])])
    return app, seen, upstream


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_http_5xx_is_retried(app: TestApp, status: int) -> None:
    proxy, seen, upstream = flaky_proxy(app.app, failures=2, status=status)
    async with upstream, httpx.AsyncClient(transport=httpx.ASGITransport(app=proxy)) as http:
        with app.host.override_transport("notes", HttpTransport("http://flaky", http)):
            data = await relay_client(app).call("notes", CALLER, as_=principal(app, "u5"))
    assert data == {"caller": "user:u5"}
    assert seen == ["/api/notes/graphql"] * 3


async def test_http_5xx_every_time_is_upstream_unavailable(app: TestApp) -> None:
    proxy, seen, upstream = flaky_proxy(app.app, failures=None)
    async with upstream, httpx.AsyncClient(transport=httpx.ASGITransport(app=proxy)) as http:
        with app.host.override_transport("notes", HttpTransport("http://flaky", http)):
            with pytest.raises(UpstreamUnavailable, match="HTTP 500") as failure:
                await relay_client(app).call("notes", CALLER, as_="service")
    assert len(seen) == 4
    assert failure.value.extensions == {"plugin": "notes", "operation": "ReadCaller"}


async def test_http_answer_that_is_not_json_is_transient(app: TestApp) -> None:
    proxy, seen, upstream = flaky_proxy(app.app, failures=1, status=200, body="<html>proxy page</html>")
    async with upstream, httpx.AsyncClient(transport=httpx.ASGITransport(app=proxy)) as http:
        with app.host.override_transport("notes", HttpTransport("http://flaky", http)):
            assert await relay_client(app).call("notes", CALLER, as_="service") == {"caller": "service:relay"}
    assert len(seen) == 2


async def test_http_4xx_is_not_retried(app: TestApp) -> None:
    proxy, seen, upstream = flaky_proxy(app.app, failures=0)
    async with upstream, httpx.AsyncClient(transport=httpx.ASGITransport(app=proxy)) as http:
        with app.host.override_transport("notes", HttpTransport("http://flaky", http)):
            with pytest.raises(CrossPluginError) as failure:
                await relay_client(app).call("notes", "query Bad { nope }", as_="service")
            with pytest.raises(CrossPluginError) as unauthenticated:
                await relay_client(app).call("notes", MINE, as_=Principal(kind="user", token="bad"))
    assert failure.value.code == "BAD_USER_INPUT" and unauthenticated.value.code == "UNAUTHENTICATED"
    assert len(seen) == 2


async def test_connection_refused_is_upstream_unavailable(app: TestApp) -> None:
    async with httpx.AsyncClient() as http:
        closed = HttpTransport(f"http://127.0.0.1:{free_port()}", http)
        with app.host.override_transport("notes", closed), pytest.raises(UpstreamUnavailable) as failure:
            await relay_client(app).call("notes", CALLER, as_="service")
    assert "ConnectError" in failure.value.message and "after 4 attempt(s)" in failure.value.message


async def test_http_transport_by_plugin_url(settings: Settings) -> None:
    """``plugin_urls`` sends one plugin's calls over HTTP while the others stay in-process."""
    port = free_port()
    configured = settings.with_overrides(plugin_urls={"notes": f"http://127.0.0.1:{port}"})
    async with running_app([notes, relay], configured, transport="inprocess") as app:
        assert isinstance(app.host.transport_for("notes"), HttpTransport)
        assert app.host.transport_for("relay").name == "inprocess"
        with pytest.raises(UpstreamUnavailable):  # nothing listens there
            await relay_client(app).call("notes", CALLER, as_="service", timeout=1)


def test_operation_name_of() -> None:
    assert operation_name_of("query Named { a }") == "Named"
    assert operation_name_of("{ first second }") == "first"
    assert operation_name_of("mutation { addNote(text: 1) { id } }") == "addNote"
    assert operation_name_of("fragment F on Q { a } query Later { a }") == "Later"
    assert operation_name_of("{ broken") == "anonymous"


def test_cross_plugin_error_keeps_the_target_code_and_extensions() -> None:
    error = CrossPluginError("students", "enroll", "ALREADY_ENROLLED", "Already", {"code": "X", "courseId": "c1"})
    assert error.code == "ALREADY_ENROLLED"
    assert error.to_extensions() == {"code": "ALREADY_ENROLLED", "courseId": "c1"}
    assert json.loads(json.dumps(error.extensions)) == {"courseId": "c1"}


# --- CrossPluginError.for_caller: the one way across ------------------------------------------


def refusal(code: str, message: str = "nope", **extensions: Any) -> CrossPluginError:
    return CrossPluginError("teach-internal", "Course", code, message, {"code": code, **extensions})


@pytest.mark.parametrize("code", ["UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "BAD_USER_INPUT", "RATE_LIMITED"])
def test_for_caller_passes_on_codes_that_describe_the_caller(code: str) -> None:
    error = refusal(code, "no such course", field="id", retryAfter=3).for_caller("Could not check the course")
    assert error.code == code
    assert error.message == "Could not check the course: no such course"
    assert error.to_extensions() == {"code": code, "retryAfter": 3}  # the target's field is not ours


@pytest.mark.parametrize("code", ["INTERNAL", "CONFLICT", "ALREADY_ENROLLED", "UPSTREAM_UNAVAILABLE", "WEIRD"])
def test_for_caller_makes_anything_else_upstream_unavailable_naming_the_plugin(code: str) -> None:
    error = refusal(code, "boom").for_caller("Could not check the course")
    assert isinstance(error, UpstreamUnavailable)
    assert error.code == "UPSTREAM_UNAVAILABLE" and error.extensions == {"plugin": "teach-internal"}
    assert error.message == f"Could not check the course: teach-internal answered {code} (boom)"


def test_for_caller_remaps_codes_with_their_own_message() -> None:
    codes = {"NOT_FOUND": "FORBIDDEN", "CONFLICT": "CONFLICT"}
    messages = {"FORBIDDEN": "That profile is not yours"}
    forbidden = refusal("NOT_FOUND").for_caller("Could not link", codes=codes, messages=messages)
    assert (forbidden.code, forbidden.message) == ("FORBIDDEN", "That profile is not yours")
    conflict = refusal("CONFLICT", "taken").for_caller("Could not link", codes=codes, messages=messages)
    assert (conflict.code, conflict.message) == ("CONFLICT", "Could not link: taken")
    untouched = refusal("UNAUTHENTICATED", "expired").for_caller("Could not link", codes=codes, messages=messages)
    assert (untouched.code, untouched.message) == ("UNAUTHENTICATED", "Could not link: expired")


async def test_for_caller_end_to_end_reaches_the_client_with_the_right_code(app: TestApp) -> None:
    client = relay_client(app)
    with pytest.raises(CrossPluginError) as failure:
        await client.call("notes", MINE, as_=ANONYMOUS_PRINCIPAL)
    assert failure.value.for_caller("Could not list notes").code == "UNAUTHENTICATED"


async def test_a_stopped_host_makes_no_new_http_client(settings: Settings) -> None:
    """A late task of a stopped server (an outbox kick, a cancelled job's caller) calling over
    HTTP gets UPSTREAM_UNAVAILABLE; it does not open an HTTP client nobody would close."""
    configured = settings.with_overrides(plugin_urls={"notes": f"http://127.0.0.1:{free_port()}"})
    async with running_app([notes, relay], configured, transport="inprocess") as app:
        host = app.host
    assert host._http is None
    with pytest.raises(UpstreamUnavailable, match="shutting down"):
        await relay_client(app).call("notes", CALLER, as_="service", timeout=1)
    assert host._http is None
    assert host.transport_for("relay").name == "inprocess"  # in-process calls are not HTTP clients
