"""Issue 10's attacks on the host, reproduced: each test sends what the attack run sent.

Finding 1 (one request stalls the server), 2 (lone surrogates and NUL bytes), 6 (field
suggestions in production) and the host defences of 8 (media types, headers, CORS, playground).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

import tests.plugins.notes as notes
from byway.app import create_app
from byway.settings import Settings
from byway.testing import TEST_JWT_SECRET, TestApp, live_server, running_app

JSON = {"Content-Type": "application/json"}
GRAPHQL_RESPONSE = {"Accept": "application/graphql-response+json"}


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[TestApp]:
    async with running_app([notes], settings, transport="inprocess") as test_app:
        yield test_app


async def post(app: TestApp, body: Any, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await app.client.post("/api/notes/graphql", content=content, headers={**JSON, **headers})


def reason(response: httpx.Response) -> str:
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    return str(error["extensions"].get("reason"))


# --- finding 1: the work is bounded before it is done ---------------------------------------------


async def test_a_megabyte_of_repeated_fields_is_refused_by_size(app: TestApp) -> None:
    response = await post(app, {"query": "{" + " whoami" * 140_000 + "}"}, **GRAPHQL_RESPONSE)
    # The body limit (1 MiB) or the document limit refuses it, before any parse.
    assert response.status_code in (400, 413)


async def test_document_over_the_size_limit_is_refused_unparsed(app: TestApp) -> None:
    query = "{ whoami }" + " " * 100_001
    response = await post(app, {"query": query}, **GRAPHQL_RESPONSE)
    assert response.status_code == 400 and reason(response) == "size"


async def test_document_over_the_token_limit_is_refused(app: TestApp) -> None:
    query = "{" + " ".join(f"a{i}: whoami" for i in range(1000)) + "}"  # 3,000 tokens
    response = await post(app, {"query": query}, **GRAPHQL_RESPONSE)
    assert response.status_code == 400 and reason(response) == "parse"
    assert "tokens" in response.json()["errors"][0]["message"]


async def test_repeated_field_is_refused_before_validation(app: TestApp) -> None:
    # 500 copies of one field made validation compare 125,000 pairs (quadratic); refused unvalidated.
    response = await post(app, {"query": "{" + " whoami" * 500 + "}"}, **GRAPHQL_RESPONSE)
    assert response.status_code == 400 and reason(response) == "repeats"
    assert "'whoami' is selected 500 times" in response.json()["errors"][0]["message"]


async def test_repeats_nested_level_by_level_are_refused(app: TestApp) -> None:
    query = "{" + ' note(id: "1") {' + " id" * 20 + " }" * 1 + (' note(id: "1") {' + " id" * 20 + " }") * 19 + "}"
    response = await post(app, {"query": query}, **GRAPHQL_RESPONSE)
    assert response.status_code == 400 and reason(response) == "repeats"


async def test_introspection_aliases_are_refused_by_tokens_or_cost(app: TestApp) -> None:
    for count, why in ((2000, "parse"), (200, "cost"), (10, "cost")):
        query = "{" + " ".join(f"a{i}: __schema {{ types {{ name }} }}" for i in range(count)) + "}"
        response = await post(app, {"query": query}, **GRAPHQL_RESPONSE)
        assert response.status_code == 400 and reason(response) == why
        assert len(response.content) < 1000  # a refusal, not 15 MB of schema


async def test_introspection_depth_is_limited(app: TestApp) -> None:
    query = "{ __schema { types { " + "fields { type { " * 10 + "name" + " } }" * 10 + " } } }"
    response = await post(app, {"query": query}, **GRAPHQL_RESPONSE)
    assert response.status_code == 400 and reason(response) == "depth"


async def test_the_playground_introspection_query_still_runs(app: TestApp) -> None:
    from graphql import get_introspection_query

    response = await post(app, {"query": get_introspection_query(descriptions=True, input_value_deprecation=True)})
    assert response.status_code == 200 and response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_varying_one_byte_gets_the_same_cheap_refusal(app: TestApp) -> None:
    executor = app.host.plugins["notes"].executor
    assert executor is not None
    for i in range(20):
        response = await post(app, {"query": "{" + " whoami" * 500 + f" a{i}: whoami }}"}, **GRAPHQL_RESPONSE)
        assert response.status_code == 400 and reason(response) == "repeats"


async def test_a_hostile_query_does_not_delay_healthz(settings: Settings) -> None:
    """Hostile documents (each one byte different, so no cache helps) are sent without pause
    while /healthz is polled: every poll must answer within a small bound."""
    bound = 1.0
    hostile = ["{" + " whoami" * 600 + f" a{i}: whoami" * 3 + "}" + " " * (90_000 + i) for i in range(25)]
    app = create_app(settings, [notes])
    async with live_server(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as client:
        done = asyncio.Event()
        refused: list[int] = []

        async def attack() -> None:
            try:
                for query in hostile:
                    response = await client.post("/api/notes/graphql", json={"query": query}, headers=GRAPHQL_RESPONSE)
                    refused.append(response.status_code)
            finally:
                done.set()

        attacker = asyncio.create_task(attack())
        latencies: list[float] = []
        deadline = time.monotonic() + 120
        async with httpx.AsyncClient(base_url=base, timeout=30) as probe:
            while not done.is_set() and time.monotonic() < deadline:
                started = time.monotonic()
                assert (await probe.get("/healthz")).status_code == 200
                latencies.append(time.monotonic() - started)
                await asyncio.sleep(0.005)
        await attacker
    assert refused == [400] * len(hostile)
    assert len(latencies) >= 5 and max(latencies) < bound, sorted(latencies)[-5:]


# --- finding 2: NUL bytes and lone surrogates at the JSON boundary --------------------------------


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"query": "{ whoami }", "operationName": "\\ud800"}', "operationName"),
        (b'{"query": "query Q($t: String!) { whoami }", "variables": {"t": "a\\u0000b"}}', "t"),
        (b'{"query": "{ whoami }", "variables": {"items": [{"x": "\\udfff"}]}}', "items[0].x"),
        (b'{"query": "{ whoami \\u0000 }"}', "query"),
        (b'{"query": "{ whoami \\ud800 }"}', "query"),
        (b'{"query": "{ whoami }", "variables": {"\\ud83d": 1}}', "<key>"),
    ],
)
async def test_nul_and_lone_surrogates_are_bad_user_input(app: TestApp, raw: bytes, field: str) -> None:
    response = await post(app, raw)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "text", "field": field}


async def test_a_paired_surrogate_is_a_normal_character(app: TestApp) -> None:
    response = await post(app, b'{"query": "mutation { addNote(text: \\"ok \\ud83d\\ude00\\") { text } }"}')
    # Not refused as unsafe text: it reaches the resolver, which wants a signed-in user.
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_nul_in_a_graphql_string_literal_is_refused(app: TestApp) -> None:
    response = await post(app, {"query": 'mutation { addNote(text: "a\\u0000b") { id } }'}, **GRAPHQL_RESPONSE)
    assert response.status_code == 400 and reason(response) == "text"


async def test_rest_json_bodies_refuse_nul_and_lone_surrogates(app: TestApp) -> None:
    for raw in (b'{"displayName": "\\ud800"}', b'{"displayName": "x\\u0000"}'):
        response = await app.client.post("/api/notes/count", content=raw, headers=JSON)
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "displayName"}


async def test_in_process_calls_refuse_unsafe_variables_too(app: TestApp) -> None:
    runtime = app.host.plugins["notes"]
    status, body = await runtime.run_operation("query Q($t: String) { whoami }", {"t": "\ud800"}, None, None)
    assert status == 400 and body["errors"][0]["extensions"]["field"] == "t"


async def test_sql_errors_never_log_parameter_values(app: TestApp, caplog: pytest.LogCaptureFixture) -> None:
    from sqlalchemy import text

    database = app.host.plugins["notes"].db
    assert database.engine.sync_engine.hide_parameters
    with pytest.raises(Exception) as failure:
        async with database.sessions() as session:
            await session.execute(text("SELECT * FROM no_such_table WHERE x = :secret"), {"secret": "ada@example.org"})
    assert "ada@example.org" not in str(failure.value)


# --- finding 6: no field suggestions in production ------------------------------------------------


def production(settings: Settings, **changes: Any) -> Settings:
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # production creates no directories
    return settings.with_overrides(env="production", jwt_secret=TEST_JWT_SECRET, **changes)


async def test_field_suggestions_are_hidden_in_production(settings: Settings) -> None:
    async with running_app([notes], production(settings, auto_migrate=True), transport="inprocess") as app:
        response = await post(app, {"query": 'mutation { addNot(text: "x") { id } }'})
    message = response.json()["errors"][0]["message"]
    assert "addNot" in message and "Did you mean" not in message and "addNote" not in message


async def test_field_suggestions_are_shown_in_dev(app: TestApp) -> None:
    response = await post(app, {"query": 'mutation { addNot(text: "x") { id } }'})
    assert "Did you mean 'addNote'?" in response.json()["errors"][0]["message"]


# --- finding 8 (host side): media types, headers, CORS, playground ---------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
    ],
)
async def test_graphql_posts_other_than_json_are_415(app: TestApp, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await app.client.post(
        "/api/notes/graphql", content=b'{"query": "mutation { addNote(text: \\"x\\") { id } }"}', headers=headers
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_response_media_type_follows_accept(app: TestApp) -> None:
    for accept, media in [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        ("application/graphql-response+json", "application/graphql-response+json"),
        ("application/graphql-response+json, application/json;q=0.9", "application/graphql-response+json"),
        ("application/json, application/graphql-response+json;q=0.5", "application/json"),
    ]:
        headers = {"Accept": accept} if accept else {}
        response = await post(app, {"query": "{ __typename }"}, **headers)
        assert response.status_code == 200 and response.headers["content-type"] == media, accept
    assert (await post(app, {"query": "{ __typename }"}, Accept="text/html")).status_code == 406


@pytest.mark.parametrize("query", ["{ whoami ", "{ nope }", "query Q($id: ID!) { note(id: $id) { id } }"])
async def test_request_failures_are_200_under_json_and_400_under_the_graphql_media_type(
    app: TestApp, query: str
) -> None:
    plain = await post(app, {"query": query, "variables": {"id": None}})
    assert plain.status_code == 200 and "data" not in plain.json() and plain.json()["errors"]
    typed = await post(app, {"query": query, "variables": {"id": None}}, **GRAPHQL_RESPONSE)
    assert typed.status_code == 400 and "data" not in typed.json()


async def test_security_headers_on_every_response(app: TestApp) -> None:
    for response in (
        await app.client.get("/healthz"),
        await app.client.get("/api/notes/graphql"),
        await post(app, {"query": "{ __typename }"}),
        await app.client.get("/nowhere"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "strict-transport-security" not in response.headers  # dev: no HSTS
        assert "access-control-allow-origin" not in response.headers


async def test_hsts_and_no_playground_in_production(settings: Settings) -> None:
    async with running_app([notes], production(settings, auto_migrate=True), transport="inprocess") as app:
        response = await app.client.get("/api/notes/graphql")
        assert response.status_code == 404 and "playground" in response.json()["errors"][0]["message"]
        assert response.headers["strict-transport-security"].startswith("max-age=")
    async with running_app(
        [notes], production(settings, auto_migrate=True, playground=True), transport="inprocess"
    ) as app:
        page = await app.client.get("/api/notes/graphql")
        assert page.status_code == 200 and "graphiql" in page.text.lower()


async def test_cors_is_off_by_default(app: TestApp) -> None:
    preflight = await app.client.options(
        "/api/notes/graphql",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    response = await post(app, {"query": "{ __typename }"}, Origin="https://shop.example")
    assert "access-control-allow-origin" not in response.headers


async def test_cors_for_configured_origins(settings: Settings) -> None:
    configured = settings.with_overrides(cors_origins=("https://shop.example",))
    async with running_app([notes], configured, transport="inprocess") as app:
        preflight = await app.client.options(
            "/api/notes/graphql",
            headers={
                "Origin": "https://shop.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "https://shop.example"
        assert "Authorization" in preflight.headers["access-control-allow-headers"]
        response = await post(app, {"query": "{ __typename }"}, Origin="https://shop.example")
        assert response.headers["access-control-allow-origin"] == "https://shop.example"
        other = await app.client.options(
            "/api/notes/graphql", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        )
        assert other.status_code == 403 and "access-control-allow-origin" not in other.headers


def test_settings_from_the_environment() -> None:
    from byway.settings import load_settings

    settings = load_settings({"BYWAY_CORS_ORIGINS": "https://a.example, https://b.example", "BYWAY_PLAYGROUND": "0"})
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.playground_enabled is False


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"ids": ["a", "b", "c\x00"]}, "variables.ids[2]"),
        ({"deep": [{"x": ["ok", {"y": "\ud800"}]}]}, "variables.deep[0].x[1].y"),
        ({"bad\x00key": 1}, "variables.<key>"),
        ({"ids": ["a\ud83d", "\ude00b"]}, "variables.ids[1]"),  # two lone halves in two strings
        ({"ids": ["a", "b"], "n": 1, "none": None, "emoji": "\U0001f600"}, None),
        ([], None),
        ("\x00", "variables"),
    ],
)
def test_unsafe_text_path_names_the_first_unsafe_string(value: Any, path: str | None) -> None:
    from byway.security import unsafe_text_path

    found = unsafe_text_path(value, "variables")
    if path is None:
        assert found is None
    elif path == "variables.ids[1]":  # either half is a lone surrogate; the search is depth-first
        assert found in ("variables.ids[0]", "variables.ids[1]")
    else:
        assert found == path
