"""The caller's own profile (``updateMe``) and the teacher-profile link."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import byway
from byway.auth import Principal
from byway.errors import (
    BadUserInput,
    Forbidden,
    Unauthenticated,
)
from byway.runtime import PluginRuntime
from byway_authentication import store
from byway_authentication.accounts import GONE, user_of
from byway_authentication.operations import TEACHER_PROFILE_OWNER
from byway_authentication.validation import clean_name

MAX_URL_LENGTH = 2048
MAX_ID_LENGTH = 64
NOT_YOURS = "That teacher profile is not yours"
TEACH_DOWN = "The teach service is unavailable; try again later"
COLUMNS = {"firstName": "first_name", "lastName": "last_name", "displayName": "display_name", "avatarUrl": "avatar_url"}


def clean_url(value: str | None, field: str) -> str | None:
    """An absolute http(s) URL (None when empty), or BAD_USER_INPUT."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    parts = urlsplit(value)
    if (
        len(value) > MAX_URL_LENGTH
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or any(ch.isspace() or ord(ch) < 32 for ch in value)
    ):
        raise BadUserInput(f"{field} must be an absolute http(s) URL", field=field)
    return value


async def update_me(plugin: PluginRuntime, principal: Principal, given: dict[str, str | None]) -> dict[str, Any]:
    """Change the given profile fields of the caller (an empty value clears one); the ``User``."""
    changes: dict[str, str | None] = {}
    for argument, value in given.items():
        column = COLUMNS[argument]
        changes[column] = clean_url(value, argument) if argument == "avatarUrl" else clean_name(value, argument)
    async with plugin.sessions() as session:
        if not await store.update_profile(session, str(principal.user_id), changes):
            raise Unauthenticated(GONE)
        await session.commit()
        user = await store.user_by_id(session, str(principal.user_id))
    assert user is not None
    return user.to_graphql()


async def link_teacher_profile(plugin: PluginRuntime, principal: Principal, profile_id: str) -> dict[str, Any]:
    """Link the caller to a teacher profile once teach confirms, as the caller, that it is theirs."""
    if not profile_id.strip() or len(profile_id) > MAX_ID_LENGTH:
        raise BadUserInput("Not a teacher profile id", field="teacherProfileId")
    await user_of(plugin, principal)
    try:
        data = await plugin.client.call("teach", TEACHER_PROFILE_OWNER, {"id": profile_id}, as_=principal)
    except byway.CrossPluginError as exc:
        # teach hides other people's profiles (NOT_FOUND): to the caller that is "not yours".
        raise exc.for_caller(
            "Could not check the teacher profile",
            codes={"NOT_FOUND": "FORBIDDEN"},
            messages={"FORBIDDEN": NOT_YOURS, "UPSTREAM_UNAVAILABLE": TEACH_DOWN},
        ) from exc
    except byway.UpstreamUnavailable as exc:
        raise byway.UpstreamUnavailable(TEACH_DOWN) from exc
    profile = data.get("teacherProfile")
    if not profile or profile.get("userId") != principal.user_id:
        raise Forbidden(NOT_YOURS)
    async with plugin.sessions() as session:
        if not await store.set_teacher_profile(session, str(principal.user_id), profile_id):
            raise Unauthenticated(GONE)
        await session.commit()
        user = await store.user_by_id(session, str(principal.user_id))
    assert user is not None
    return user.to_graphql()
