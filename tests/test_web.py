"""The GraphQL endpoint ``/api/<plugin>/graphql`` and the REST helpers, over HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

import tests.plugins.notes as notes
import tests.plugins.relay as relay
from byway.settings import Settings
from byway.testing import TestApp, error_codes, running_app

TYPENAME = {"query": "{ __typename }"}

JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[TestApp]:
    async with running_app([notes, relay], settings.with_overrides(max_body_bytes=2000)) as test_app:
        yield test_app


def first_error(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["errors"][0]
    return error


async def test_post_executes(app: TestApp) -> None:
    response = await app.client.post("/api/notes/graphql", json=TYPENAME)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"data": {"__typename": "Query"}}
    assert (await app.gql("relay", "{ __typename }"))["data"] == {"__typename": "Query"}


async def test_get_shows_the_playground(app: TestApp) -> None:
    response = await app.client.get("/api/notes/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower() and "notes" in response.text


async def test_head_is_answered_like_get(app: TestApp) -> None:
    response = await app.client.head("/api/notes/graphql")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/api/notes/graphql/", "/api/relay/graphql/", "/api/notes/graphql/x"])
async def test_only_the_exact_path(app: TestApp, path: str) -> None:
    response = await app.client.post(path, json=TYPENAME)
    assert response.status_code == 404
    assert "location" not in response.headers


async def test_unknown_plugin_is_404(app: TestApp) -> None:
    assert (await app.client.post("/api/nope/graphql", json=TYPENAME)).status_code == 404


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_other_methods_are_405(app: TestApp, method: str) -> None:
    response = await app.client.request(method, "/api/notes/graphql", json=TYPENAME)
    assert response.status_code == 405


async def test_body_over_the_limit_is_413(app: TestApp) -> None:
    big = {"query": "{ __typename }", "variables": {"pad": "x" * 3000}}
    response = await app.client.post("/api/notes/graphql", json=big)
    assert response.status_code == 413
    assert first_error(response)["extensions"]["code"] == "BAD_USER_INPUT"


async def test_streamed_body_over_the_limit_is_413(app: TestApp) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename }", "variables": {"pad": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}}'

    response = await app.client.post(
        "/api/notes/graphql", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


async def test_streamed_body_under_the_limit_runs(app: TestApp) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": '
        yield b'"{ __typename }"}'

    response = await app.client.post("/api/notes/graphql", content=chunks(), headers=JSON)
    assert response.status_code == 200 and response.json()["data"] == {"__typename": "Query"}


async def test_rest_body_over_the_limit_is_413(app: TestApp) -> None:
    response = await app.client.post("/api/notes/count", json={"pad": "x" * 3000})
    assert response.status_code == 413
    ok = await app.client.post("/api/notes/count", json={"a": 1})
    assert ok.status_code == 200 and ok.json() == {"count": 0, "caller": "anonymous", "echo": {"a": 1}}


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe", b""])
async def test_invalid_json_is_400(app: TestApp, content: bytes) -> None:
    response = await app.client.post("/api/notes/graphql", content=content, headers=JSON)
    assert response.status_code == 400
    assert first_error(response)["extensions"]["code"] == "BAD_USER_INPUT"


async def test_deeply_nested_json_is_400_not_500(settings: Settings) -> None:
    async with running_app([notes], settings) as app:
        for path in ("/api/notes/graphql", "/api/notes/count"):
            response = await app.client.post(path, content=b"[" * 100_000 + b"]" * 100_000, headers=JSON)
            assert response.status_code == 400
            assert first_error(response)["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("body", [[1, 2], "query", 3, None])
async def test_body_that_is_not_an_object_is_400(app: TestApp, body: Any) -> None:
    response = await app.client.post("/api/notes/graphql", content=json.dumps(body), headers=JSON)
    assert response.status_code == 400
    assert first_error(response)["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"query": ""},
        {"query": 5},
        {"query": "{ __typename }", "variables": [1]},
        {"query": "{ __typename }", "operationName": 3},
    ],
)
async def test_malformed_request_is_400(app: TestApp, body: dict[str, Any]) -> None:
    response = await app.client.post("/api/notes/graphql", json=body)
    assert response.status_code == 400
    assert first_error(response)["extensions"] == {"code": "BAD_USER_INPUT", "reason": "request"}


async def test_parse_error_is_400(app: TestApp) -> None:
    body = await app.gql("notes", "{ notes { id ")
    assert body["_status"] == 400
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "parse"}
    assert body["errors"][0]["message"].startswith("Syntax error")


async def test_validation_error_is_400(app: TestApp) -> None:
    body = await app.gql("notes", "{ notes { id title } }")
    assert body["_status"] == 400
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "validation"}
    assert "title" in body["errors"][0]["message"]


async def test_depth_over_the_limit_is_400(settings: Settings) -> None:
    async with running_app([notes], settings.with_overrides(max_query_depth=1)) as app:
        assert (await app.gql("notes", "{ whoami }"))["_status"] == 200
        body = await app.gql("notes", '{ note(id: "1") { id } }')
    assert body["_status"] == 400
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "depth"}


async def test_cost_over_the_limit_is_400(settings: Settings) -> None:
    query = "query Items($n: Int) { items(first: $n) { n } }"
    async with running_app([relay], settings.with_overrides(max_query_cost=50)) as app:
        ok = await app.gql("relay", query, {"n": 40})
        assert ok["_status"] == 200 and len(ok["data"]["items"]) == 40
        body = await app.gql("relay", query, {"n": 1000})
        assert body["_status"] == 400
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "cost"}
        literal = await app.gql("relay", "{ items(first: 1000) { n } }")
        assert literal["_status"] == 400 and literal["errors"][0]["extensions"]["reason"] == "cost"
        default = await app.gql("relay", "query Items($n: Int = 1000) { items(first: $n) { n } }")
        assert default["_status"] == 400 and default["errors"][0]["extensions"]["reason"] == "cost"


@pytest.mark.parametrize(
    "variables",
    [{}, {"id": None}, {"id": {"nested": 1}}, {"id": [1, 2]}],
)
async def test_bad_variables_are_400(app: TestApp, variables: dict[str, Any]) -> None:
    body = await app.gql("notes", "query Note($id: ID!) { note(id: $id) { id } }", variables)
    assert body["_status"] == 400
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["reason"] == "variables"


async def test_unknown_operation_name_is_400(app: TestApp) -> None:
    response = await app.client.post(
        "/api/notes/graphql",
        json={"query": "query A { whoami } query B { whoami }", "operationName": "C"},
        headers={"Accept": "application/graphql-response+json"},
    )
    assert response.status_code == 400
    chosen = await app.client.post(
        "/api/notes/graphql", json={"query": "query A { whoami } query B { caller }", "operationName": "B"}
    )
    assert chosen.json() == {"data": {"caller": "anonymous"}}


INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_introspection_is_on_in_dev(app: TestApp) -> None:
    body = await app.gql("notes", INTROSPECTION)
    assert body["_status"] == 200 and body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_introspection_can_be_switched_off(settings: Settings) -> None:
    async with running_app([notes], settings.with_overrides(introspection=False)) as app:
        body = await app.gql("notes", INTROSPECTION)
        assert body["_status"] == 400
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "validation"}
        assert (await app.gql("notes", "{ __typename }"))["_status"] == 200


async def test_unexpected_exception_is_internal_without_detail(app: TestApp) -> None:
    response = await app.client.post("/api/notes/graphql", json={"query": "{ boom }"})
    assert response.status_code == 200
    assert "secret internal detail" not in response.text and "RuntimeError" not in response.text
    body = response.json()
    assert body["data"] == {"boom": None}
    assert body["errors"] == [
        {
            "message": "Internal server error",
            "locations": [{"line": 1, "column": 3}],
            "path": ["boom"],
            "extensions": {"code": "INTERNAL"},
        }
    ]


async def test_debug_shows_the_exception(settings: Settings) -> None:
    async with running_app([notes], settings.with_overrides(debug=True)) as app:
        body = await app.gql("notes", "{ boom }")
    extensions = body["errors"][0]["extensions"]
    assert extensions["code"] == "INTERNAL"
    assert extensions["exception"]["message"] == "RuntimeError: secret internal detail"


async def test_refusal_keeps_its_code_and_field(app: TestApp) -> None:
    body = await app.gql("notes", 'mutation { addNote(text: " ") { id } }', token=app.token("u1"))
    assert body["_status"] == 200
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "text"}
    assert body["errors"][0]["message"] == "text must not be empty"


async def test_bad_token_is_401(app: TestApp) -> None:
    body = await app.gql("notes", "{ whoami }", token="not-a-token")
    assert body["_status"] == 401
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_other_authorization_scheme_is_401(app: TestApp) -> None:
    response = await app.client.post(
        "/api/notes/graphql", json={"query": "{ whoami }"}, headers={"Authorization": "Basic dXNlcjpwYXNz"}
    )
    assert response.status_code == 401
    assert first_error(response)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_token_identifies_the_caller(app: TestApp) -> None:
    assert (await app.gql("notes", "{ whoami }"))["data"] == {"whoami": "anonymous"}
    body = await app.gql("notes", "{ whoami caller }", token=app.token("u7"))
    assert body["data"] == {"whoami": "user:u7", "caller": "user:u7"}
    service = app.host.tokens.service_token("relay")
    assert (await app.gql("notes", "{ caller }", token=service))["data"] == {"caller": "service:relay"}


async def test_rest_route_is_mounted_under_the_plugin(app: TestApp) -> None:
    response = await app.client.get("/api/notes/count", headers={"Authorization": f"Bearer {app.token('u1')}"})
    assert response.status_code == 200 and response.json()["caller"] == "user"
    bad = await app.client.get("/api/notes/count", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and first_error(bad)["extensions"]["code"] == "UNAUTHENTICATED"
    invalid = await app.client.post("/api/notes/count", content=b"{")
    assert invalid.status_code == 400


async def test_healthz(app: TestApp) -> None:
    response = await app.client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
