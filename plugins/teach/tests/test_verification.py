"""verifyTeacherProfile: admins only; verifies, grants the teacher role, and is idempotent."""

from __future__ import annotations

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
LOGIN = (
    'mutation L($email: String!) { login(email: $email, password: "correct horse battery") { token user { roles } } }'
)
CREATE = 'mutation { createTeacherProfile(bio: "I teach.") { id } }'
VERIFY = "mutation V($id: ID!) { verifyTeacherProfile(id: $id) { id userId verified payoutEmail } }"


async def register(app: TestApp, email: str) -> tuple[str, str]:
    """A new user's (token, id)."""
    body = await app.gql("authentication", REGISTER, {"email": email})
    assert "errors" not in body, body
    return body["data"]["register"]["token"], body["data"]["register"]["user"]["id"]


async def profile_of(app: TestApp, email: str) -> tuple[str, str, str]:
    """Register ``email`` and create its profile: (token, user id, profile id)."""
    token, user_id = await register(app, email)
    body = await app.gql("teach", CREATE, token=token)
    assert "errors" not in body, body
    return token, user_id, body["data"]["createTeacherProfile"]["id"]


async def is_verified(app: TestApp, profile_id: str) -> bool:
    """teacher_profiles.verified as stored."""
    async with app.host.plugins["teach"].sessions() as session:
        return bool(
            await session.scalar(select(teacher_profiles.c.verified).where(teacher_profiles.c.id == profile_id))
        )


async def login_roles(app: TestApp, email: str) -> tuple[list[str], set[str]]:
    """The roles a fresh login reports: (user.roles, the token's roles)."""
    body = await app.gql("authentication", LOGIN, {"email": email})
    login = body["data"]["login"]
    return login["user"]["roles"], set(app.host.tokens.verify(login["token"]).roles)


@pytest.mark.parametrize("caller", ["anonymous", "owner", "other student", "verified teacher", "service"])
async def test_only_admins_verify(app: TestApp, caller: str) -> None:
    owner, _, profile_id = await profile_of(app, "teacher@example.com")
    other, _ = await register(app, "other@example.com")
    tokens: dict[str, str | None] = {
        "anonymous": None,
        "owner": owner,
        "other student": other,
        "verified teacher": app.token("t" * 32, ("student", "teacher")),
        "service": app.host.tokens.service_token("teach-internal"),
    }
    body = await app.gql("teach", VERIFY, {"id": profile_id}, token=tokens[caller])
    assert error_codes(body) == ["UNAUTHENTICATED" if caller == "anonymous" else "FORBIDDEN"]
    assert not await is_verified(app, profile_id)


async def test_admin_verifies_and_the_teacher_role_is_granted(db_app: TestApp) -> None:
    _, user_id, profile_id = await profile_of(db_app, "teacher@example.com")
    admin = db_app.token("a" * 32, ("student", "admin"))
    assert await login_roles(db_app, "teacher@example.com") == (["student"], {"student"})
    with db_app.host.observe_calls() as calls:
        body = await db_app.gql("teach", VERIFY, {"id": profile_id}, token=admin)
    assert body["data"]["verifyTeacherProfile"] == {
        "id": profile_id,
        "userId": user_id,
        "verified": True,
        "payoutEmail": None,
    }
    assert [(c.target, c.operation, c.as_kind) for c in calls] == [("authentication", "GrantRole", "service")]
    assert await is_verified(db_app, profile_id)
    assert await login_roles(db_app, "teacher@example.com") == (["student", "teacher"], {"student", "teacher"})
    again = await db_app.gql("teach", VERIFY, {"id": profile_id}, token=admin)
    assert again["data"] == body["data"]


async def test_verifying_an_unknown_profile_is_not_found(app: TestApp) -> None:
    admin = app.token("a" * 32, ("student", "admin"))
    for unknown in ("0" * 32, "x" * 100):
        assert error_codes(await app.gql("teach", VERIFY, {"id": unknown}, token=admin)) == ["NOT_FOUND"]


async def test_verification_completes_on_retry_when_authentication_was_down(app: TestApp) -> None:
    _, _, profile_id = await profile_of(app, "teacher@example.com")
    admin = app.token("a" * 32, ("student", "admin"))
    with app.host.override_transport("authentication", FailingTransport(app.host.transport_for("authentication"))):
        body: dict[str, Any] = await app.gql("teach", VERIFY, {"id": profile_id}, token=admin)
    assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert "run verifyTeacherProfile again" in body["errors"][0]["message"]
    assert await is_verified(app, profile_id)
    assert (await login_roles(app, "teacher@example.com"))[0] == ["student"]
    assert "errors" not in await app.gql("teach", VERIFY, {"id": profile_id}, token=admin)
    assert (await login_roles(app, "teacher@example.com"))[0] == ["student", "teacher"]
