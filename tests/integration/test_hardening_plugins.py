"""Finding 2 against the real plugins: the attack run's lone surrogates and NUL bytes, on SQLite and
PostgreSQL, are 400 / BAD_USER_INPUT and write nothing (they were 500, or INTERNAL on PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from byway.settings import Settings
from byway.testing import require_plugin, running_app

from .conftest import CORE_PLUGINS, World, fast_settings

ecommerce = require_plugin("byway_ecommerce.plugin")

ACCEPT = {"Accept": "application/graphql-response+json", "Content-Type": "application/json"}


@pytest.fixture
async def pg_or_sqlite_world(byway_settings: Settings, database_url: str) -> AsyncIterator[World]:
    settings = fast_settings(byway_settings.with_overrides(database_url=database_url))
    async with running_app([*CORE_PLUGINS, ecommerce], settings) as app:
        yield World(app)


async def raw(world: World, path: str, body: bytes, token: str | None = None) -> tuple[int, dict[str, object]]:
    headers = dict(ACCEPT)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = await world.app.client.post(path, content=body, headers=headers)
    return response.status_code, response.json()


async def test_unsafe_text_is_bad_user_input_everywhere(pg_or_sqlite_world: World) -> None:
    """One running world per database (starting one is the slow part), every entry point of the attack."""
    world = pg_or_sqlite_world
    # operationName: was HTTP 500 (the answer could not be encoded)
    status, body = await raw(
        world, "/api/authentication/graphql", b'{"query": "{ me { id } }", "operationName": "\\ud800"}'
    )
    assert status == 400 and body["errors"][0]["extensions"]["field"] == "operationName"  # type: ignore[index]

    # NUL in a registration email: was INTERNAL on PostgreSQL, with the email in the log
    query = "mutation R($e: String!, $p: String!) { register(email: $e, password: $p) { token } }"
    payload = json.dumps({"query": query, "variables": {"e": "ada\u0000@example.org", "p": "a-long-password"}})
    status, body = await raw(world, "/api/authentication/graphql", payload.encode())
    assert status == 400
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "text", "field": "e"}  # type: ignore[index]
    login = await world.gql(
        "authentication", 'mutation { login(email: "ada@example.org", password: "a-long-password") { token } }'
    )
    assert login["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"  # no such account was created

    # a lone surrogate in createCheckout's items: was HTTP 500
    token = (await world.user("buyer")).token
    checkout = (
        'mutation C($items: [CartItemInput!]!) { createCheckout(items: $items, successUrl: \\"http://x/s\\", '
        'cancelUrl: \\"http://x/c\\") { orderId } }'
    )
    raw_body = b'{"query": "' + checkout.encode() + b'", "variables": {"items": [{"courseId": "\\ud800"}]}}'
    status, body = await raw(world, "/api/ecommerce/graphql", raw_body, token)
    assert status == 400 and body["errors"][0]["extensions"]["field"] == "items[0].courseId"  # type: ignore[index]

    # a lone surrogate in a REST displayName: was HTTP 500
    status, body = await raw(
        world,
        "/api/students-internal/students",
        b'{"userId": "u1", "displayName": "\\ud800"}',
        world.service_token("authentication"),
    )
    assert status == 400
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "displayName"}  # type: ignore[index]


async def test_an_explicit_null_first_is_the_default_page(pg_or_sqlite_world: World) -> None:
    """The long fuzz run's finding: auditLog(first: null) was INTERNAL."""
    admin = await pg_or_sqlite_world.admin()
    body = await pg_or_sqlite_world.gql("authentication", "{ auditLog(first: null) { id action } }", token=admin.token)
    assert "errors" not in body and isinstance(body["data"]["auditLog"], list), body
