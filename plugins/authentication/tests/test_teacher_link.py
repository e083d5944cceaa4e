"""updateUserTeacherProfile: only the caller's own user, only a profile teach confirms is theirs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import byway_authentication.plugin as authentication_plugin
from byway_authentication.models import users
from sqlalchemy import select

from byway.testing import FailingTransport, error_codes, running_app

if TYPE_CHECKING:
    from byway.settings import Settings
    from byway.testing import TestApp

REGISTER = """
mutation Register($email: String!) {
  register(email: $email, password: "correct horse battery") { token user { id } }
}
"""
CREATE_PROFILE = """
mutation { createTeacherProfile(bio: "I teach things.", subjects: ["Maths"]) { id userId } }
"""
VERIFY = "mutation Verify($id: ID!) { verifyTeacherProfile(id: $id) { id verified } }"
LINK = """
mutation Link($id: ID!) { updateUserTeacherProfile(teacherProfileId: $id) { id teacherProfileId } }
"""
ME = "query { me { id teacherProfileId } }"


async def register(app: TestApp, email: str) -> tuple[str, str]:
    """A new user's (token, id)."""
    body = await app.gql("authentication", REGISTER, {"email": email})
    assert "errors" not in body, body
    payload = body["data"]["register"]
    return payload["token"], payload["user"]["id"]


async def create_profile(app: TestApp, token: str) -> str:
    """The id of a new teacher profile for the token's user (made through teach)."""
    body = await app.gql("teach", CREATE_PROFILE, token=token)
    assert "errors" not in body, body
    return str(body["data"]["createTeacherProfile"]["id"])


async def stored_link(app: TestApp, user_id: str) -> str | None:
    """users.teacher_profile_id as stored."""
    async with app.host.plugins["authentication"].sessions() as session:
        return await session.scalar(select(users.c.teacher_profile_id).where(users.c.id == user_id))


async def test_linking_ones_own_profile_is_confirmed_with_teach_and_idempotent(app: TestApp) -> None:
    token, user_id = await register(app, "owner@example.com")
    profile_id = await create_profile(app, token)
    assert await stored_link(app, user_id) == profile_id
    with app.host.observe_calls() as calls:
        body = await app.gql("authentication", LINK, {"id": profile_id}, token=token)
    assert body["data"]["updateUserTeacherProfile"] == {"id": user_id, "teacherProfileId": profile_id}
    assert [(c.caller, c.target, c.operation, c.as_kind) for c in calls] == [
        ("authentication", "teach", "TeacherProfile", "user")
    ]
    me = await app.gql("authentication", ME, token=token)
    assert me["data"]["me"] == {"id": user_id, "teacherProfileId": profile_id}


async def test_another_users_profile_is_forbidden_verified_or_not(app: TestApp) -> None:
    owner_token, _ = await register(app, "owner@example.com")
    other_token, other_id = await register(app, "other@example.com")
    profile_id = await create_profile(app, owner_token)

    body = await app.gql("authentication", LINK, {"id": profile_id}, token=other_token)
    assert error_codes(body) == ["FORBIDDEN"]

    admin = app.token("f" * 32, ("student", "admin"))
    assert "errors" not in await app.gql("teach", VERIFY, {"id": profile_id}, token=admin)
    # Now the profile is public: teach shows it to the other user, with the owner's userId.
    body = await app.gql("authentication", LINK, {"id": profile_id}, token=other_token)
    assert error_codes(body) == ["FORBIDDEN"]
    assert await stored_link(app, other_id) is None


async def test_a_profile_that_does_not_exist_is_forbidden(app: TestApp) -> None:
    token, user_id = await register(app, "owner@example.com")
    for profile_id in ("0" * 32, "not-an-id"):
        body = await app.gql("authentication", LINK, {"id": profile_id}, token=token)
        assert error_codes(body) == ["FORBIDDEN"], body
    body = await app.gql("authentication", LINK, {"id": "x" * 65}, token=token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "teacherProfileId"
    assert await stored_link(app, user_id) is None


async def test_linking_needs_a_user(app: TestApp) -> None:
    token, _ = await register(app, "owner@example.com")
    profile_id = await create_profile(app, token)
    anonymous = await app.gql("authentication", LINK, {"id": profile_id})
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    service = await app.gql("authentication", LINK, {"id": profile_id}, token=app.host.tokens.service_token("teach"))
    assert error_codes(service) == ["FORBIDDEN"]


async def test_linking_fails_closed_when_teach_is_down(app: TestApp) -> None:
    token, user_id = await register(app, "owner@example.com")
    down = FailingTransport(app.host.transport_for("teach"))
    with app.host.override_transport("teach", down):
        body = await app.gql("authentication", LINK, {"id": "0" * 32}, token=token)
    assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert down.attempts >= 1
    assert await stored_link(app, user_id) is None


async def test_authentication_runs_without_teach(auth_settings: Settings) -> None:
    # The relation to teach is optional: sign-up and login work alone, linking fails closed.
    async with running_app([authentication_plugin], auth_settings) as app:
        assert [r.target for r in app.host.relations] == ["teach.TeacherProfile"]
        token, user_id = await register(app, "solo@example.com")
        body: dict[str, Any] = await app.gql("authentication", LINK, {"id": "0" * 32}, token=token)
        assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
        assert await stored_link(app, user_id) is None
