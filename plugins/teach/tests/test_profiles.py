"""createTeacherProfile end to end, its refusals, no orphans, and who sees what."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pytest
from byway_teach.models import teacher_profiles
from sqlalchemy import select

from byway.testing import FailingTransport, error_codes

if TYPE_CHECKING:
    from byway.testing import TestApp

REGISTER = """
mutation Register($email: String!) {
  register(email: $email, password: "correct horse battery") { token user { id } }
}
"""
ME = "query { me { id teacherProfileId roles } }"
FIELDS = "id userId bio subjects avatarUrl payoutEmail verified createdAt"
CREATE = f"""
mutation Create($bio: String!, $subjects: [String!], $avatarUrl: String, $payoutEmail: String) {{
  createTeacherProfile(bio: $bio, subjects: $subjects, avatarUrl: $avatarUrl, payoutEmail: $payoutEmail) {{ {FIELDS} }}
}}
"""
PROFILE = f"query Profile($id: ID!) {{ teacherProfile(id: $id) {{ {FIELDS} }} }}"
MY_PROFILE = f"query {{ myTeacherProfile {{ {FIELDS} }} }}"
VALID = {
    "bio": "  I teach Python to beginners.  ",
    "subjects": ["Python", " python ", "Testing"],
    "avatarUrl": "https://cdn.example.com/me.png",
    "payoutEmail": "pay@example.com",
}


async def register(app: TestApp, email: str) -> tuple[str, str]:
    """A new user's (token, id)."""
    body = await app.gql("authentication", REGISTER, {"email": email})
    assert "errors" not in body, body
    return body["data"]["register"]["token"], body["data"]["register"]["user"]["id"]


async def create(app: TestApp, token: str | None, **overrides: Any) -> dict[str, Any]:
    """POST createTeacherProfile with valid values unless overridden; the response body."""
    return await app.gql("teach", CREATE, {**VALID, **overrides}, token=token)


async def profile_rows(app: TestApp) -> list[Any]:
    """Every stored teacher profile."""
    async with app.host.plugins["teach"].sessions() as session:
        return list((await session.execute(select(teacher_profiles))).all())


async def linked_profile(app: TestApp, token: str) -> str | None:
    """authentication's User.teacherProfileId, read through me."""
    body = await app.gql("authentication", ME, token=token)
    return body["data"]["me"]["teacherProfileId"]


async def test_create_profile_end_to_end(db_app: TestApp) -> None:
    token, user_id = await register(db_app, "teacher@example.com")
    with db_app.host.observe_calls() as calls:
        body = await create(db_app, token)
    assert "errors" not in body, body
    profile = body["data"]["createTeacherProfile"]
    assert profile["userId"] == user_id
    assert profile["bio"] == "I teach Python to beginners."
    assert profile["subjects"] == ["Python", "Testing"]
    assert (profile["avatarUrl"], profile["payoutEmail"]) == ("https://cdn.example.com/me.png", "pay@example.com")
    assert profile["verified"] is False
    # Relation 2: authentication's User.teacherProfileId now points at the profile.
    assert await linked_profile(db_app, token) == profile["id"]
    assert [(c.caller, c.target, c.operation, c.as_kind) for c in calls] == [
        ("teach", "authentication", "Me", "user"),
        ("teach", "authentication", "UpdateUserTeacherProfile", "user"),
        ("authentication", "teach", "TeacherProfile", "user"),
    ]
    [row] = await profile_rows(db_app)
    assert (row.id, row.user_id, row.verified) == (profile["id"], user_id, False)
    mine = await db_app.gql("teach", MY_PROFILE, token=token)
    assert mine["data"]["myTeacherProfile"] == profile


async def test_create_profile_needs_a_known_user(app: TestApp) -> None:
    assert error_codes(await create(app, None)) == ["UNAUTHENTICATED"]
    assert error_codes(await create(app, app.host.tokens.service_token("teach-internal"))) == ["FORBIDDEN"]
    # A signed token for a user authentication does not know: identity comes from authentication.
    assert error_codes(await create(app, app.token("0" * 32))) == ["UNAUTHENTICATED"]
    assert await profile_rows(app) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"bio": ""}, "bio"),
        ({"bio": "   \n "}, "bio"),
        ({"bio": "x" * 5001}, "bio"),
        ({"bio": "nul\x00byte"}, "bio"),
        ({"subjects": [""]}, "subjects"),
        ({"subjects": ["x" * 81]}, "subjects"),
        ({"subjects": [f"subject {i}" for i in range(21)]}, "subjects"),
        ({"avatarUrl": "javascript:alert(1)"}, "avatarUrl"),
        ({"avatarUrl": "ftp://example.com/me.png"}, "avatarUrl"),
        ({"avatarUrl": "not a url"}, "avatarUrl"),
        ({"avatarUrl": "https://"}, "avatarUrl"),
        ({"avatarUrl": "https://example.com:99999/a.png"}, "avatarUrl"),
        ({"avatarUrl": "https://example.com/" + "a" * 2048}, "avatarUrl"),
        ({"payoutEmail": "nope"}, "payoutEmail"),
        ({"payoutEmail": "a@b"}, "payoutEmail"),
        ({"payoutEmail": "a b@example.com"}, "payoutEmail"),
    ],
)
async def test_create_profile_validation(app: TestApp, overrides: Mapping[str, Any], field: str) -> None:
    token, _ = await register(app, "teacher@example.com")
    with app.host.observe_calls() as calls:
        body = await create(app, token, **overrides)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == field
    assert calls == []  # refused before asking anyone
    assert await profile_rows(app) == []


async def test_optional_fields_may_be_left_out(app: TestApp) -> None:
    token, _ = await register(app, "teacher@example.com")
    body = await app.gql(
        "teach", 'mutation { createTeacherProfile(bio: "Hi") { subjects avatarUrl payoutEmail } }', token=token
    )
    assert body["data"]["createTeacherProfile"] == {"subjects": [], "avatarUrl": None, "payoutEmail": None}


async def test_a_second_profile_is_a_conflict(app: TestApp) -> None:
    token, _ = await register(app, "teacher@example.com")
    first = (await create(app, token))["data"]["createTeacherProfile"]
    body = await create(app, token, bio="Another one")
    assert error_codes(body) == ["CONFLICT"]
    assert body["errors"][0]["extensions"]["references"] == {"teacherProfileId": first["id"]}
    assert [row.id for row in await profile_rows(app)] == [first["id"]]
    assert await linked_profile(app, token) == first["id"]


async def test_concurrent_creates_for_one_user_make_one_profile(db_app: TestApp) -> None:
    token, _ = await register(db_app, "teacher@example.com")
    bodies = await asyncio.gather(*(create(db_app, token, bio=f"Bio {i}") for i in range(5)))
    winners = [b["data"]["createTeacherProfile"] for b in bodies if "errors" not in b]
    assert len(winners) == 1, bodies
    assert sorted(code for b in bodies for code in error_codes(b)) == ["CONFLICT"] * 4
    assert [row.id for row in await profile_rows(db_app)] == [winners[0]["id"]]
    assert await linked_profile(db_app, token) == winners[0]["id"]


class FailLink(FailingTransport):
    """Fails only the link (updateUserTeacherProfile); everything else goes through."""

    async def send(self, *args: Any) -> tuple[int, dict[str, Any]]:
        if "updateUserTeacherProfile" in args[1]:
            return await super().send(*args)
        result: tuple[int, dict[str, Any]] = await self.inner.send(*args)
        return result


class RefuseLink:
    """Answers the link with a business error, as authentication would when it refuses."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name

    async def send(self, *args: Any) -> tuple[int, dict[str, Any]]:
        if "updateUserTeacherProfile" in args[1]:
            return 200, {"data": None, "errors": [{"message": "refused", "extensions": {"code": "FORBIDDEN"}}]}
        result: tuple[int, dict[str, Any]] = await self.inner.send(*args)
        return result


async def test_a_failed_link_leaves_no_orphan_profile(db_app: TestApp) -> None:
    token, _ = await register(db_app, "teacher@example.com")
    failing = FailLink(db_app.host.transport_for("authentication"))
    with db_app.host.override_transport("authentication", failing):
        body = await create(db_app, token)
    assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"], body
    assert failing.attempts == 1 + db_app.host.settings.client_retries  # the link was retried, then gave up
    assert await profile_rows(db_app) == []
    assert await linked_profile(db_app, token) is None
    # Nothing is left in the way: trying again once authentication is back succeeds.
    again = await create(db_app, token)
    assert "errors" not in again, again
    assert await linked_profile(db_app, token) == again["data"]["createTeacherProfile"]["id"]


async def test_a_refused_link_leaves_no_orphan_profile(app: TestApp) -> None:
    token, _ = await register(app, "teacher@example.com")
    with app.host.override_transport("authentication", RefuseLink(app.host.transport_for("authentication"))):
        body = await create(app, token)
    assert error_codes(body) == ["FORBIDDEN"]
    assert "link the teacher profile" in body["errors"][0]["message"]
    assert await profile_rows(app) == []


async def test_authentication_down_creates_nothing(app: TestApp) -> None:
    token, _ = await register(app, "teacher@example.com")
    with app.host.override_transport("authentication", FailingTransport(app.host.transport_for("authentication"))):
        body = await create(app, token)
    assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert await profile_rows(app) == []


async def test_my_teacher_profile(app: TestApp) -> None:
    assert error_codes(await app.gql("teach", MY_PROFILE)) == ["UNAUTHENTICATED"]
    assert error_codes(await app.gql("teach", MY_PROFILE, token=app.host.tokens.service_token("x"))) == ["FORBIDDEN"]
    token, _ = await register(app, "teacher@example.com")
    assert (await app.gql("teach", MY_PROFILE, token=token))["data"] == {"myTeacherProfile": None}
    created = (await create(app, token))["data"]["createTeacherProfile"]
    assert (await app.gql("teach", MY_PROFILE, token=token))["data"] == {"myTeacherProfile": created}


async def test_who_sees_a_teacher_profile(app: TestApp) -> None:
    owner, _ = await register(app, "teacher@example.com")
    other, _ = await register(app, "other@example.com")
    admin = app.token("a" * 32, ("student", "admin"))
    service = app.host.tokens.service_token("teach-internal")
    profile = (await create(app, owner))["data"]["createTeacherProfile"]

    async def seen_by(token: str | None) -> dict[str, Any] | None:
        body = await app.gql("teach", PROFILE, {"id": profile["id"]}, token=token)
        assert "errors" not in body, body
        return body["data"]["teacherProfile"]

    # Unverified: only the owner, admins and services see it.
    for token in (owner, admin, service):
        assert await seen_by(token) == profile
    for token in (other, None):
        assert await seen_by(token) is None

    verify = "mutation V($id: ID!) { verifyTeacherProfile(id: $id) { id } }"
    assert "errors" not in await app.gql("teach", verify, {"id": profile["id"]}, token=admin)
    public = {**profile, "verified": True, "avatarUrl": None, "payoutEmail": None}
    for token in (other, None):
        assert await seen_by(token) == public
    assert await seen_by(owner) == {**profile, "verified": True}

    for unknown in ("0" * 32, "x" * 100):
        body = await app.gql("teach", PROFILE, {"id": unknown}, token=admin)
        assert body["data"] == {"teacherProfile": None}


PROFILES_BY_IDS = f"query Profiles($ids: [ID!]!) {{ teacherProfilesByIds(ids: $ids) {{ {FIELDS} }} }}"


@pytest.mark.parametrize(
    ("caller", "code"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("owner", "FORBIDDEN"),
        ("other", "FORBIDDEN"),
        ("admin", None),
        ("service", None),
    ],
)
async def test_teacher_profiles_by_ids_is_for_services_and_admins(app: TestApp, caller: str, code: str | None) -> None:
    owner, _ = await register(app, "teacher@example.com")
    other, _ = await register(app, "other@example.com")
    profile = (await create(app, owner))["data"]["createTeacherProfile"]
    tokens: dict[str, str | None] = {
        "anonymous": None,
        "owner": owner,
        "other": other,
        "admin": app.token("a" * 32, ("student", "admin")),
        "service": app.host.tokens.service_token("authentication"),
    }
    body = await app.gql("teach", PROFILES_BY_IDS, {"ids": [profile["id"]]}, token=tokens[caller])
    if code is None:
        # Unverified, with its private fields: services and admins see everything.
        assert body["data"]["teacherProfilesByIds"] == [profile]
    else:
        assert error_codes(body) == [code] and body["data"] is None


async def test_teacher_profiles_by_ids_answers_in_order_with_null_for_unknown_ids(app: TestApp) -> None:
    first = (await create(app, (await register(app, "first@example.com"))[0]))["data"]["createTeacherProfile"]
    second = (await create(app, (await register(app, "second@example.com"))[0]))["data"]["createTeacherProfile"]
    service = app.host.tokens.service_token("authentication")

    async def lookup(ids: list[str]) -> dict[str, Any]:
        return await app.gql("teach", PROFILES_BY_IDS, {"ids": ids}, token=service)

    body = await lookup([second["id"], "0" * 32, first["id"], second["id"], "x" * 100])
    assert body["data"]["teacherProfilesByIds"] == [second, None, first, second, None]
    assert (await lookup([]))["data"] == {"teacherProfilesByIds": []}
    assert (await lookup(["0" * 32] * 500))["data"]["teacherProfilesByIds"] == [None] * 500
    body = await lookup(["0" * 32] * 501)
    assert error_codes(body) == ["BAD_USER_INPUT"] and body["errors"][0]["extensions"]["field"] == "ids"
