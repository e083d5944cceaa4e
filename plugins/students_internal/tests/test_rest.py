"""REST ``POST /api/students-internal/students``: 201 new, 200 existing, the caller for themself or a service/admin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import World, WorldFactory

    from byway.testing import FakeAuthentication

URL = "/api/students-internal/students"


async def post(world: World, body: Any, *, as_: str = "anonymous", raw: bytes | None = None) -> tuple[int, Any]:
    token = world.token(as_)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if raw is not None:
        response = await world.app.client.post(
            URL, content=raw, headers={**headers, "Content-Type": "application/json"}
        )
    else:
        response = await world.app.client.post(URL, json=body, headers=headers)
    return response.status_code, response.json()


def code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


async def test_create_then_return_the_existing_student(world: World) -> None:
    me = world.user_id("student")
    status, created = await post(world, {"userId": me, "displayName": "Ada"}, as_="student")
    assert status == 201
    assert set(created) == {"id", "userId", "displayName", "createdAt"}
    assert (created["userId"], created["displayName"]) == (me, "Ada")
    status, again = await post(world, {"userId": me, "displayName": "Other"}, as_="student")
    assert (status, again) == (200, created)
    data = await world.ok("students-internal", "{ myStudent { id displayName } }", as_="student")
    assert data["myStudent"] == {"id": created["id"], "displayName": "Ada"}


@pytest.mark.parametrize("who", ["service", "admin"])
async def test_services_and_admins_register_anyone(world: World, who: str) -> None:
    status, created = await post(world, {"userId": "u-someone"}, as_=who)
    assert (status, created["userId"], created["displayName"]) == (201, "u-someone", None)


async def test_who_may_not_register(world: World) -> None:
    status, body = await post(world, {"userId": world.user_id("student")})
    assert (status, code(body)) == (401, "UNAUTHENTICATED")
    response = await world.app.client.post(URL, json={"userId": "x"}, headers={"Authorization": "Bearer not-a-jwt"})
    assert (response.status_code, code(response.json())) == (401, "UNAUTHENTICATED")
    status, body = await post(world, {"userId": world.user_id("student")}, as_="other_student")
    assert (status, code(body)) == (403, "FORBIDDEN")
    assert (await world.ok("students-internal", "{ myStudent { id } }", as_="student"))["myStudent"] is None


@pytest.mark.parametrize(
    ("body", "raw", "field"),
    [
        (None, b"{not json", None),
        (None, b"", None),
        (["u-student"], None, None),
        ({}, None, "userId"),
        ({"userId": 42}, None, "userId"),
        ({"userId": ""}, None, "userId"),
        ({"userId": "u-student", "displayName": 7}, None, "displayName"),
        ({"userId": "u-student", "displayName": "x" * 201}, None, "displayName"),
    ],
)
async def test_bad_bodies_are_400(world: World, body: Any, raw: bytes | None, field: str | None) -> None:
    status, answer = await post(world, body, as_="student", raw=raw)
    assert (status, code(answer)) == (400, "BAD_USER_INPUT")
    assert answer["errors"][0]["extensions"].get("field") == field


async def test_too_large_and_wrong_method(world: World) -> None:
    big = b'{"userId": "u-student", "displayName": "' + b"x" * 2_000_000 + b'"}'
    status, _body = await post(world, None, as_="student", raw=big)
    assert status == 413
    response = await world.app.client.get(URL)
    assert response.status_code == 405


async def test_unknown_user_is_404_when_authentication_is_loaded(
    open_world: WorldFactory, fake_authentication: FakeAuthentication
) -> None:
    async with open_world(fake_authentication) as world:
        status, body = await post(world, {"userId": "u-ghost"}, as_="service")
        assert (status, code(body)) == (404, "NOT_FOUND")
        status, _ = await post(world, {"userId": world.user_id("teacher")}, as_="service")
        assert status == 201
