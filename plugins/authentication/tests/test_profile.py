"""User profile fields, updateMe, password rules and look-alike emails."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from byway_authentication.models import users
from byway_authentication.validation import normalize_email
from sqlalchemy import select

from byway.testing import error_codes

if TYPE_CHECKING:
    from byway.testing import TestApp

AUTH = "authentication"
PASSWORD = "correct horse battery"
USER = "id email firstName lastName displayName avatarUrl emailVerified createdAt"
REGISTER = f"""mutation R($e: String!, $p: String!, $f: String, $l: String) {{
  register(email: $e, password: $p, firstName: $f, lastName: $l) {{ token user {{ {USER} }} }} }}"""
LOGIN = "mutation L($e: String!, $p: String!) { login(email: $e, password: $p) { user { id } } }"
UPDATE = f"""mutation U($f: String, $l: String, $d: String, $a: String) {{
  updateMe(firstName: $f, lastName: $l, displayName: $d, avatarUrl: $a) {{ {USER} }} }}"""


async def register(app: TestApp, email: str, password: str = PASSWORD, **names: Any) -> dict[str, Any]:
    return await app.gql(AUTH, REGISTER, {"e": email, "p": password, **names})


async def test_new_user_fields_and_update_me(db_app: TestApp) -> None:
    body = await register(db_app, "ada@example.org", f="Ada", l="Lovelace")
    user, token = body["data"]["register"]["user"], body["data"]["register"]["token"]
    assert (user["displayName"], user["avatarUrl"], user["emailVerified"]) == ("Ada Lovelace", None, False)
    assert user["createdAt"].endswith("+00:00")

    changed = await db_app.gql(AUTH, UPDATE, {"d": " Countess ", "a": "https://img.example.org/ada.png"}, token=token)
    me = changed["data"]["updateMe"]
    assert (me["displayName"], me["avatarUrl"], me["firstName"]) == (
        "Countess",
        "https://img.example.org/ada.png",
        "Ada",
    )
    # Only the arguments given change; an empty string clears.
    cleared = (await db_app.gql(AUTH, UPDATE, {"d": "", "l": "King"}, token=token))["data"]["updateMe"]
    assert (cleared["displayName"], cleared["lastName"], cleared["avatarUrl"]) == (
        "Ada King",
        "King",
        "https://img.example.org/ada.png",
    )
    nameless = await register(db_app, "grace.hopper@example.org")
    assert nameless["data"]["register"]["user"]["displayName"] == "grace.hopper"


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"a": "javascript:alert(1)"}, "avatarUrl"),
        ({"a": "/relative.png"}, "avatarUrl"),
        ({"a": "https://x.org/a b.png"}, "avatarUrl"),
        ({"a": "https://x.org/" + "a" * 2048}, "avatarUrl"),
        ({"d": "x" * 101}, "displayName"),
        ({"f": "bell\x07"}, "firstName"),
    ],
)
async def test_update_me_refusals_change_nothing(app: TestApp, variables: dict[str, Any], field: str) -> None:
    body = await register(app, "sam@example.org", f="Sam")
    token = body["data"]["register"]["token"]
    refused = await app.gql(AUTH, UPDATE, variables, token=token)
    assert error_codes(refused) == ["BAD_USER_INPUT"] and refused["errors"][0]["extensions"]["field"] == field
    async with app.host.plugins[AUTH].sessions() as session:
        row = (await session.execute(select(users))).one()
    assert (row.first_name, row.display_name, row.avatar_url) == ("Sam", None, None)
    assert error_codes(await app.gql(AUTH, UPDATE, {"d": "x"})) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    "password",
    [
        "123456789",
        "          ",
        " \t \n \t \n \t ",
        "1234567890",
        "Password123",
        "QWERTYUIOP",
        "ada@example.org",
        "ADA@Example.org",
    ],
)
async def test_password_rules(app: TestApp, password: str) -> None:
    body = await register(app, "ada@example.org", password)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == "password"
    async with app.host.plugins[AUTH].sessions() as session:
        assert (await session.execute(select(users))).all() == []


async def test_ten_characters_are_enough(app: TestApp) -> None:
    assert "errors" not in await register(app, "ten@example.org", "tenchars!!")


def test_email_normal_form() -> None:
    assert normalize_email(" \uff21\uff24\uff21@Example.ORG ") == "ada@example.org"  # full-width letters
    assert normalize_email("STRASSE@example.org") == normalize_email("straße@example.org")
    assert normalize_email("\ufb01le@example.org") == "file@example.org"  # the "fi" ligature


async def test_look_alike_emails_are_one_account(db_app: TestApp) -> None:
    first = await register(db_app, "Ada@Example.org")
    assert "errors" not in first
    for twin in ("\uff21\uff24\uff21@example.org", "ada@EXAMPLE.org", "  ada@example.org"):
        body = await register(db_app, twin, "another good password")
        assert error_codes(body) == ["BAD_USER_INPUT"] and body["errors"][0]["extensions"]["field"] == "email"
    login = await db_app.gql(AUTH, LOGIN, {"e": "\uff41\uff44\uff41@example.org", "p": PASSWORD})
    assert login["data"]["login"]["user"]["id"] == first["data"]["register"]["user"]["id"]
