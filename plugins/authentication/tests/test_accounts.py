"""register, login and me: happy paths and every refusal."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import byway_authentication.plugin as authentication_plugin
import byway_teach.plugin as teach_plugin
import pytest
from byway_authentication.models import users
from jose import jwt
from sqlalchemy import func, select

from byway.host import Host
from byway.testing import TEST_JWT_SECRET, error_codes, make_settings, running_app

if TYPE_CHECKING:  # imported for annotations only: pytest would try to collect a Test* class
    from byway.testing import TestApp

PLUGINS = [authentication_plugin, teach_plugin]

REGISTER = """
mutation Register($email: String!, $password: String!, $firstName: String, $lastName: String) {
  register(email: $email, password: $password, firstName: $firstName, lastName: $lastName) {
    token
    user { id email firstName lastName roles teacherProfileId createdAt }
  }
}
"""
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { token user { id email roles } }
}
"""
ME = "query { me { id email firstName lastName roles teacherProfileId } }"
PASSWORD = "correct horse battery"


async def register(app: TestApp, email: str, password: str = PASSWORD, **names: Any) -> dict[str, Any]:
    """POST register; the whole response body."""
    return await app.gql("authentication", REGISTER, {"email": email, "password": password, **names})


async def user_rows(app: TestApp) -> list[Any]:
    """Every stored user row."""
    async with app.host.plugins["authentication"].sessions() as session:
        return list((await session.execute(select(users).order_by(users.c.created_at))).all())


async def test_register_login_me(db_app: TestApp) -> None:
    body = await register(db_app, "  Ada.Lovelace@Example.com ", firstName=" Ada ", lastName="Lovelace")
    assert body["_status"] == 200 and "errors" not in body, body
    payload = body["data"]["register"]
    user = payload["user"]
    assert user["email"] == "Ada.Lovelace@Example.com"
    assert (user["firstName"], user["lastName"]) == ("Ada", "Lovelace")
    assert user["roles"] == ["student"]
    assert user["teacherProfileId"] is None
    assert user["createdAt"].endswith("+00:00")
    principal = db_app.host.tokens.verify(payload["token"])
    assert principal.user_id == user["id"] and principal.roles == {"student"}

    me = await db_app.gql("authentication", ME, token=payload["token"])
    assert me["data"]["me"]["id"] == user["id"]

    login = await db_app.gql("authentication", LOGIN, {"email": "ada.lovelace@EXAMPLE.com", "password": PASSWORD})
    assert "errors" not in login, login
    assert login["data"]["login"]["user"]["id"] == user["id"]
    me = await db_app.gql("authentication", ME, token=login["data"]["login"]["token"])
    assert me["data"]["me"]["email"] == "Ada.Lovelace@Example.com"

    [row] = await user_rows(db_app)
    assert row.email_normalized == "ada.lovelace@example.com"
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash


async def test_duplicate_email_is_refused_in_any_case(db_app: TestApp) -> None:
    assert "errors" not in await register(db_app, "sam@example.com")
    for email in ("sam@example.com", "SAM@Example.COM", "  sam@example.com  "):
        body = await register(db_app, email, password="another password")
        assert error_codes(body) == ["BAD_USER_INPUT"], body
        assert body["errors"][0]["extensions"]["field"] == "email"
        assert "already registered" in body["errors"][0]["message"]
    assert len(await user_rows(db_app)) == 1


async def test_concurrent_sign_ups_with_one_email_make_one_account(db_app: TestApp) -> None:
    emails = ["race@example.com", "RACE@example.com", "Race@Example.com", "race@EXAMPLE.COM", "rAce@example.com"]
    bodies = await asyncio.gather(*(register(db_app, email) for email in emails))
    winners = [b for b in bodies if "errors" not in b]
    losers = [b for b in bodies if "errors" in b]
    assert len(winners) == 1
    assert all(
        error_codes(b) == ["BAD_USER_INPUT"] and b["errors"][0]["extensions"]["field"] == "email" for b in losers
    )
    assert [row.id for row in await user_rows(db_app)] == [winners[0]["data"]["register"]["user"]["id"]]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"email": ""}, "email"),
        ({"email": "plainaddress"}, "email"),
        ({"email": "no-domain@"}, "email"),
        ({"email": "a@localhost"}, "email"),
        ({"email": "two@@example.com"}, "email"),
        ({"email": "with space@example.com"}, "email"),
        ({"email": "dots@example..com"}, "email"),
        ({"email": "x" * 250 + "@example.com"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "1234567"}, "password"),
        ({"password": "x" * 1025}, "password"),
        ({"firstName": "x" * 101}, "firstName"),
        ({"lastName": "y" * 101}, "lastName"),
        ({"firstName": "bell\x07"}, "firstName"),
    ],
)
async def test_register_validation(app: TestApp, variables: dict[str, Any], field: str) -> None:
    values = {"email": "valid@example.com", "password": PASSWORD, **variables}
    body = await app.gql("authentication", REGISTER, values)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == field
    assert await user_rows(app) == []


async def test_unknown_email_and_wrong_password_get_the_same_refusal(app: TestApp) -> None:
    assert "errors" not in await register(app, "kim@example.com")
    wrong_password = await app.gql("authentication", LOGIN, {"email": "kim@example.com", "password": "wrong password"})
    unknown_email = await app.gql("authentication", LOGIN, {"email": "nobody@example.com", "password": PASSWORD})
    too_long = await app.gql("authentication", LOGIN, {"email": "kim@example.com", "password": "x" * 5000})
    for body in (wrong_password, unknown_email, too_long):
        assert body["_status"] == 200
        assert error_codes(body) == ["UNAUTHENTICATED"]
        assert body["data"] is None
    assert wrong_password["errors"][0]["message"] == unknown_email["errors"][0]["message"]
    assert wrong_password["errors"][0]["extensions"] == unknown_email["errors"][0]["extensions"]


async def test_bad_tokens_get_401(app: TestApp) -> None:
    expired = jwt.encode(
        {"sub": "u1", "roles": ["student"], "iat": int(time.time()) - 100, "exp": int(time.time()) - 10},
        TEST_JWT_SECRET,
        algorithm="HS256",
    )
    forged = jwt.encode(
        {"sub": "u1", "roles": ["admin"], "exp": int(time.time()) + 100}, "not-the-secret", algorithm="HS256"
    )
    for token in ("garbage", expired, forged):
        body = await app.gql("authentication", ME, token=token)
        assert body["_status"] == 401 and error_codes(body) == ["UNAUTHENTICATED"], body
    response = await app.client.post(
        "/api/authentication/graphql", json={"query": ME}, headers={"Authorization": "Basic dXNlcjpwYXNz"}
    )
    assert response.status_code == 401
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


async def test_me_is_null_for_anonymous_callers_and_services(app: TestApp) -> None:
    anonymous = await app.gql("authentication", ME)
    assert anonymous == {"data": {"me": None}, "_status": 200}
    service = await app.gql("authentication", ME, token=app.host.tokens.service_token("teach"))
    assert service["data"] == {"me": None}


async def test_me_refuses_a_token_of_an_account_that_does_not_exist(app: TestApp) -> None:
    body = await app.gql("authentication", ME, token=app.token("0" * 32))
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_default_hashing_parameters_are_argon2id_defaults(byway_settings: Any) -> None:
    async with running_app(PLUGINS, byway_settings) as app:
        assert "errors" not in await register(app, "slow@example.com")
        [row] = await user_rows(app)
    assert row.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


async def test_login_rehashes_a_password_hashed_with_old_parameters(auth_settings: Any) -> None:
    async with running_app(PLUGINS, auth_settings) as app:
        assert "errors" not in await register(app, "old@example.com")
    stronger = {"password_time_cost": 2, "password_memory_kib": 2048, "password_parallelism": 1}
    async with running_app(PLUGINS, auth_settings.with_overrides(plugins={"authentication": stronger})) as app:
        login = await app.gql("authentication", LOGIN, {"email": "old@example.com", "password": PASSWORD})
        assert "errors" not in login
        [row] = await user_rows(app)
        assert "$m=2048,t=2,p=1$" in row.password_hash
        again = await app.gql("authentication", LOGIN, {"email": "old@example.com", "password": PASSWORD})
        assert "errors" not in again


def test_production_refuses_weak_password_hashing(tmp_path: Path) -> None:
    weak = {"password_time_cost": 1, "password_memory_kib": 1024}
    settings = make_settings(tmp_path, env="production", plugins={"authentication": weak})
    host = Host(settings, [authentication_plugin], load_entrypoints=False)
    with pytest.raises(RuntimeError, match="OWASP"):
        authentication_plugin.byway_startup(host.plugins["authentication"])
    strong = Host(make_settings(tmp_path, env="production"), [authentication_plugin], load_entrypoints=False)
    authentication_plugin.byway_startup(strong.plugins["authentication"])


async def test_users_table_counts_nothing_for_refusals(app: TestApp) -> None:
    await app.gql("authentication", LOGIN, {"email": "ghost@example.com", "password": PASSWORD})
    async with app.host.plugins["authentication"].sessions() as session:
        assert await session.scalar(select(func.count()).select_from(users)) == 0


async def test_an_unknown_email_still_costs_a_password_check(app: TestApp, monkeypatch: pytest.MonkeyPatch) -> None:
    import byway_authentication.accounts as resolvers

    checked: list[str | None] = []
    real = resolvers.verify_password

    async def spy(params: Any, stored_hash: str | None, password: str) -> Any:
        checked.append(stored_hash)
        return await real(params, stored_hash, password)

    monkeypatch.setattr(resolvers, "verify_password", spy)
    body = await app.gql("authentication", LOGIN, {"email": "nobody@example.com", "password": PASSWORD})
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert checked == [None]  # verified against the dummy hash, like a wrong password would be
