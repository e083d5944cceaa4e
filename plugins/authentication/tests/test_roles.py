"""user(id), usersByIds, grantRole and `byway users set-role`: who may do what, and what ends up stored."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import byway_authentication.plugin as authentication_plugin
import byway_teach.plugin as teach_plugin
import pytest
from byway_authentication.models import user_roles, users
from click.testing import CliRunner
from sqlalchemy import select

from byway.cli import build_cli
from byway.host import Host
from byway.testing import error_codes, running_app

if TYPE_CHECKING:
    from byway.settings import Settings
    from byway.testing import TestApp

PLUGINS = [authentication_plugin, teach_plugin]
PASSWORD = "correct horse battery"
REGISTER = """
mutation Register($email: String!) {
  register(email: $email, password: "correct horse battery") { token user { id } }
}
"""
LOGIN = """
mutation Login($email: String!) { login(email: $email, password: "correct horse battery") { token user { roles } } }
"""
USER = "query User($id: ID!) { user(id: $id) { id email roles } }"
GRANT = "mutation Grant($userId: ID!, $role: String!) { grantRole(userId: $userId, role: $role) { id roles } }"


async def register(app: TestApp, email: str) -> tuple[str, str]:
    """A new user's (token, id)."""
    body = await app.gql("authentication", REGISTER, {"email": email})
    assert "errors" not in body, body
    return body["data"]["register"]["token"], body["data"]["register"]["user"]["id"]


async def stored_roles(app: TestApp, user_id: str) -> list[str]:
    """The user's granted roles as stored."""
    async with app.host.plugins["authentication"].sessions() as session:
        rows = await session.execute(select(user_roles.c.role).where(user_roles.c.user_id == user_id))
        return sorted(rows.scalars())


async def test_user_by_id_permissions(app: TestApp) -> None:
    token, user_id = await register(app, "self@example.com")
    other_token, _ = await register(app, "other@example.com")
    admin = app.token("a" * 32, ("student", "admin"))
    service = app.host.tokens.service_token("students-internal")
    expected = {"id": user_id, "email": "self@example.com", "roles": ["student"]}
    for caller in (token, admin, service):
        body = await app.gql("authentication", USER, {"id": user_id}, token=caller)
        assert body["data"]["user"] == expected, body
    assert error_codes(await app.gql("authentication", USER, {"id": user_id}, token=other_token)) == ["FORBIDDEN"]
    assert error_codes(await app.gql("authentication", USER, {"id": user_id})) == ["UNAUTHENTICATED"]
    unknown = await app.gql("authentication", USER, {"id": "0" * 32}, token=admin)
    assert unknown["data"] == {"user": None}


USERS_BY_IDS = "query Users($ids: [ID!]!) { usersByIds(ids: $ids) { id email roles } }"


@pytest.mark.parametrize(
    ("caller", "code"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("self", "FORBIDDEN"),
        ("other", "FORBIDDEN"),
        ("admin", None),
        ("service", None),
    ],
)
async def test_users_by_ids_permissions(app: TestApp, caller: str, code: str | None) -> None:
    token, user_id = await register(app, "self@example.com")
    other_token, _ = await register(app, "other@example.com")
    tokens: dict[str, str | None] = {
        "anonymous": None,
        "self": token,
        "other": other_token,
        "admin": app.token("a" * 32, ("student", "admin")),
        "service": app.host.tokens.service_token("students-internal"),
    }
    body = await app.gql("authentication", USERS_BY_IDS, {"ids": [user_id]}, token=tokens[caller])
    if code is None:
        assert body["data"]["usersByIds"] == [{"id": user_id, "email": "self@example.com", "roles": ["student"]}]
    else:
        assert error_codes(body) == [code] and body["data"] is None


async def test_users_by_ids_answers_in_order_with_null_for_unknown_ids(app: TestApp) -> None:
    _, first = await register(app, "first@example.com")
    _, second = await register(app, "second@example.com")
    service = app.host.tokens.service_token("teach")
    await app.gql("authentication", GRANT, {"userId": second, "role": "teacher"}, token=service)
    ids = [second, "0" * 32, first, second, "x" * 100]
    body = await app.gql("authentication", USERS_BY_IDS, {"ids": ids}, token=service)
    assert body["data"]["usersByIds"] == [
        {"id": second, "email": "second@example.com", "roles": ["student", "teacher"]},
        None,
        {"id": first, "email": "first@example.com", "roles": ["student"]},
        {"id": second, "email": "second@example.com", "roles": ["student", "teacher"]},
        None,
    ]
    assert (await app.gql("authentication", USERS_BY_IDS, {"ids": []}, token=service))["data"] == {"usersByIds": []}
    body = await app.gql("authentication", USERS_BY_IDS, {"ids": ["0" * 32] * 500}, token=service)
    assert body["data"]["usersByIds"] == [None] * 500
    body = await app.gql("authentication", USERS_BY_IDS, {"ids": ["0" * 32] * 501}, token=service)
    assert error_codes(body) == ["BAD_USER_INPUT"] and body["errors"][0]["extensions"]["field"] == "ids"


async def test_grant_role_is_for_services_and_idempotent(app: TestApp) -> None:
    token, user_id = await register(app, "teacher@example.com")
    service = app.host.tokens.service_token("teach")
    for _ in range(2):
        body = await app.gql("authentication", GRANT, {"userId": user_id, "role": "teacher"}, token=service)
        assert body["data"]["grantRole"] == {"id": user_id, "roles": ["student", "teacher"]}, body
    assert await stored_roles(app, user_id) == ["teacher"]
    # Tokens carry the roles of their login: the old token still says student, a new login says teacher.
    assert app.host.tokens.verify(token).roles == {"student"}
    login = await app.gql("authentication", LOGIN, {"email": "teacher@example.com"})
    assert login["data"]["login"]["user"]["roles"] == ["student", "teacher"]
    assert app.host.tokens.verify(login["data"]["login"]["token"]).roles == {"student", "teacher"}


@pytest.mark.parametrize(
    ("caller", "role", "code"),
    [
        ("anonymous", "teacher", "UNAUTHENTICATED"),
        ("self", "teacher", "FORBIDDEN"),
        ("admin", "teacher", "FORBIDDEN"),
        ("service", "admin", "FORBIDDEN"),
        ("service", "wizard", "BAD_USER_INPUT"),
    ],
)
async def test_grant_role_refusals(app: TestApp, caller: str, role: str, code: str) -> None:
    token, user_id = await register(app, "someone@example.com")
    tokens: dict[str, str | None] = {
        "anonymous": None,
        "self": token,
        "admin": app.token("a" * 32, ("student", "admin")),
        "service": app.host.tokens.service_token("teach"),
    }
    body = await app.gql("authentication", GRANT, {"userId": user_id, "role": role}, token=tokens[caller])
    assert error_codes(body) == [code]
    assert await stored_roles(app, user_id) == []


async def test_grant_role_to_an_unknown_user_is_not_found(app: TestApp) -> None:
    service = app.host.tokens.service_token("teach")
    body = await app.gql("authentication", GRANT, {"userId": "0" * 32, "role": "teacher"}, token=service)
    assert error_codes(body) == ["NOT_FOUND"]


def _registered(settings: Settings, email: str) -> str:
    async def run() -> str:
        async with running_app(PLUGINS, settings) as app:
            return (await register(app, email))[1]

    return asyncio.run(run())


def _login_roles(settings: Settings, email: str) -> tuple[list[str], list[str]]:
    async def run() -> tuple[list[str], list[str]]:
        async with running_app(PLUGINS, settings) as app:
            login = await app.gql("authentication", LOGIN, {"email": email})
            async with app.host.plugins["authentication"].sessions() as session:
                user_id = await session.scalar(select(users.c.id).where(users.c.email_normalized == email.lower()))
                stored = sorted(
                    (await session.execute(select(user_roles.c.role).where(user_roles.c.user_id == user_id))).scalars()
                )
            return login["data"]["login"]["user"]["roles"], stored

    return asyncio.run(run())


def test_set_role_command(auth_settings: Settings, database_url: str) -> None:
    settings = auth_settings.with_overrides(database_url=database_url)
    _registered(settings, "Boss@Example.com")
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        cli = build_cli(Host(settings, PLUGINS, load_entrypoints=False))
        return runner.invoke(cli, list(args))

    result = invoke("users", "set-role", "boss@example.com", "admin")
    assert result.exit_code == 0, result.output
    assert "admin granted to Boss@Example.com" in result.output
    assert "roles now: admin, student" in result.output
    assert _login_roles(settings, "boss@example.com") == (["admin", "student"], ["admin"])

    assert invoke("users", "set-role", "boss@example.com", "ADMIN").exit_code == 0  # idempotent
    assert invoke("users", "set-role", "boss@example.com", "teacher").exit_code == 0
    assert _login_roles(settings, "boss@example.com") == (["admin", "student", "teacher"], ["admin", "teacher"])

    result = invoke("users", "set-role", "--remove", "boss@example.com", "admin")
    assert result.exit_code == 0, result.output
    assert _login_roles(settings, "boss@example.com") == (["student", "teacher"], ["teacher"])

    unknown = invoke("users", "set-role", "ghost@example.com", "admin")
    assert unknown.exit_code == 1 and "no user with email 'ghost@example.com'" in unknown.output
    bad_role = invoke("users", "set-role", "boss@example.com", "superuser")
    assert bad_role.exit_code == 2 and "superuser" in bad_role.output
    student = invoke("users", "set-role", "--remove", "boss@example.com", "student")
    assert student.exit_code == 1 and "every user is a student" in student.output
    assert _login_roles(settings, "boss@example.com") == (["student", "teacher"], ["teacher"])
