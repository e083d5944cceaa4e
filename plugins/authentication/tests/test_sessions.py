"""Access and refresh tokens: rotation, reuse detection, logout, changePassword, revocation after role removal."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from byway_authentication.commands import set_role
from byway_authentication.models import refresh_tokens
from sqlalchemy import select

from byway.settings import Settings
from byway.testing import error_codes, running_app

from .conftest import PLUGINS

if TYPE_CHECKING:
    from byway.testing import TestApp

PASSWORD = "correct horse battery"
FIELDS = "token refreshToken expiresAt user { id email roles }"
REGISTER = f"mutation R($e: String!, $p: String!) {{ register(email: $e, password: $p) {{ {FIELDS} }} }}"
LOGIN = f"mutation L($e: String!, $p: String!) {{ login(email: $e, password: $p) {{ {FIELDS} }} }}"
REFRESH = f"mutation F($r: String!) {{ refreshToken(refreshToken: $r) {{ {FIELDS} }} }}"
LOGOUT = "mutation O($r: String!) { logout(refreshToken: $r) }"
CHANGE = (
    f"mutation C($c: String!, $n: String!) {{ changePassword(currentPassword: $c, newPassword: $n) {{ {FIELDS} }} }}"
)
ME = "{ me { id roles } }"


async def ok(app: TestApp, query: str, variables: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    body = await app.gql("authentication", query, variables, token=token)
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


def refused(body: dict[str, Any], code: str = "BAD_USER_INPUT", field: str | None = "token") -> None:
    assert error_codes(body) == [code], body
    assert body["data"] is None
    if field:
        assert body["errors"][0]["extensions"]["field"] == field


async def test_auth_payload_has_a_short_access_token_and_a_hashed_refresh_token(db_app: TestApp) -> None:
    payload = await ok(db_app, REGISTER, {"e": "ada@example.org", "p": PASSWORD})
    expires = datetime.fromisoformat(payload["expiresAt"])
    remaining = (expires - datetime.now(UTC)).total_seconds()
    assert 890 <= remaining <= 900
    assert db_app.host.tokens.verify(payload["token"]).user_id == payload["user"]["id"]
    assert len(payload["refreshToken"]) >= 40
    async with db_app.host.plugins["authentication"].sessions() as session:
        rows = (await session.execute(select(refresh_tokens))).all()
    assert len(rows) == 1 and rows[0].user_id == payload["user"]["id"]
    assert payload["refreshToken"] not in {rows[0].token_hash, rows[0].id} and len(rows[0].token_hash) == 64


async def test_refresh_rotates_and_a_reused_token_revokes_its_family(db_app: TestApp) -> None:
    await ok(db_app, REGISTER, {"e": "rot@example.org", "p": PASSWORD})
    first = await ok(db_app, LOGIN, {"e": "rot@example.org", "p": PASSWORD})
    other_device = await ok(db_app, LOGIN, {"e": "rot@example.org", "p": PASSWORD})

    second = await ok(db_app, REFRESH, {"r": first["refreshToken"]})
    assert second["refreshToken"] != first["refreshToken"]
    assert second["user"]["id"] == first["user"]["id"]
    third = await ok(db_app, REFRESH, {"r": second["refreshToken"]})
    assert (await ok(db_app, ME, {}, token=third["token"]))["id"] == first["user"]["id"]

    # A thief replays the first token: refused, and the family's newest token dies with it.
    refused(await db_app.gql("authentication", REFRESH, {"r": first["refreshToken"]}))
    refused(await db_app.gql("authentication", REFRESH, {"r": third["refreshToken"]}))
    # Another login (family) of the same user is untouched.
    assert (await ok(db_app, REFRESH, {"r": other_device["refreshToken"]}))["user"]["id"] == first["user"]["id"]


async def test_concurrent_refreshes_with_one_token_give_one_winner(db_app: TestApp) -> None:
    payload = await ok(db_app, REGISTER, {"e": "race@example.org", "p": PASSWORD})
    bodies = await asyncio.gather(
        *(db_app.gql("authentication", REFRESH, {"r": payload["refreshToken"]}) for _ in range(4))
    )
    winners = [b for b in bodies if "errors" not in b]
    assert len(winners) <= 1
    assert all(error_codes(b) == ["BAD_USER_INPUT"] for b in bodies if "errors" in b)
    # Whatever won, the token was presented more than once: the family is closed.
    if winners:
        refused(await db_app.gql("authentication", REFRESH, {"r": winners[0]["data"]["refreshToken"]["refreshToken"]}))


async def test_logout_closes_one_session(db_app: TestApp) -> None:
    await ok(db_app, REGISTER, {"e": "out@example.org", "p": PASSWORD})
    phone = await ok(db_app, LOGIN, {"e": "out@example.org", "p": PASSWORD})
    laptop = await ok(db_app, LOGIN, {"e": "out@example.org", "p": PASSWORD})
    assert await ok(db_app, LOGOUT, {"r": phone["refreshToken"]}) is True
    assert await ok(db_app, LOGOUT, {"r": phone["refreshToken"]}) is True  # idempotent
    refused(await db_app.gql("authentication", REFRESH, {"r": phone["refreshToken"]}))
    assert (await ok(db_app, REFRESH, {"r": laptop["refreshToken"]}))["user"]["email"] == "out@example.org"
    refused(await db_app.gql("authentication", LOGOUT, {"r": "not-a-token"}))
    refused(await db_app.gql("authentication", REFRESH, {"r": "not-a-token"}))


async def test_change_password_closes_every_session(db_app: TestApp) -> None:
    reg = await ok(db_app, REGISTER, {"e": "chg@example.org", "p": PASSWORD})
    other = await ok(db_app, LOGIN, {"e": "chg@example.org", "p": PASSWORD})
    token = reg["token"]

    wrong = await db_app.gql("authentication", CHANGE, {"c": "not my password", "n": "a brand new secret"}, token=token)
    refused(wrong, field="currentPassword")
    weak = await db_app.gql("authentication", CHANGE, {"c": PASSWORD, "n": "short"}, token=token)
    refused(weak, field="newPassword")
    common = await db_app.gql("authentication", CHANGE, {"c": PASSWORD, "n": "Password123"}, token=token)
    refused(common, field="newPassword")
    refused(
        await db_app.gql("authentication", CHANGE, {"c": PASSWORD, "n": "a brand new secret"}), "UNAUTHENTICATED", None
    )

    changed = await ok(db_app, CHANGE, {"c": PASSWORD, "n": "a brand new secret"}, token=token)
    refused(await db_app.gql("authentication", REFRESH, {"r": reg["refreshToken"]}))
    refused(await db_app.gql("authentication", REFRESH, {"r": other["refreshToken"]}))
    assert (await ok(db_app, REFRESH, {"r": changed["refreshToken"]}))["user"]["email"] == "chg@example.org"
    refused(await db_app.gql("authentication", LOGIN, {"e": "chg@example.org", "p": PASSWORD}), "UNAUTHENTICATED", None)
    assert (await ok(db_app, LOGIN, {"e": "chg@example.org", "p": "a brand new secret"}))["user"]["id"]


async def test_role_removal_reaches_the_user_within_one_access_lifetime(
    auth_settings: Settings, database_url: str
) -> None:
    # A 2-second access lifetime stands in for the 15 minutes: no sleeping for a quarter of an hour.
    settings = auth_settings.with_overrides(database_url=database_url, token_ttl_seconds=2)
    async with running_app(PLUGINS, settings) as app:
        await ok(app, REGISTER, {"e": "boss@example.org", "p": PASSWORD})
        plugin = app.host.plugins["authentication"]
        await set_role(plugin, "boss@example.org", "admin")
        admin = await ok(app, LOGIN, {"e": "boss@example.org", "p": PASSWORD})
        assert "admin" in admin["user"]["roles"]
        assert "admin" in (await ok(app, ME, {}, token=admin["token"]))["roles"]

        await set_role(plugin, "boss@example.org", "admin", remove=True)
        # The access token is not revocable: it still says admin until it expires...
        assert app.host.tokens.verify(admin["token"]).is_admin
        await asyncio.sleep(3.1)
        # ...then it is refused, and it cannot be renewed: the refresh token was revoked with the role.
        refused(await app.gql("authentication", ME, {}, token=admin["token"]), "UNAUTHENTICATED", None)
        refused(await app.gql("authentication", REFRESH, {"r": admin["refreshToken"]}))
        again = await ok(app, LOGIN, {"e": "boss@example.org", "p": PASSWORD})
        assert again["user"]["roles"] == ["student"]
        assert not app.host.tokens.verify(again["token"]).is_admin
