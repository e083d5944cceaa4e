"""Login sessions: a short-lived access JWT plus a rotating, single-use refresh token.

A login (register, login, changePassword, resetPassword) starts a *family*. ``refreshToken``
spends the presented token and returns the family's next one with a new access token carrying
the user's current roles. A token presented twice means it was copied: the whole family is
revoked, so the thief and the user both have to log in again. Access tokens are verified by
signature alone (any plugin, no database): they cannot be revoked, which is why they are short.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from byway.db import iso_utc, new_id, utcnow
from byway.errors import BadUserInput
from byway.runtime import PluginRuntime
from byway_authentication import store
from byway_authentication.config import config_of
from byway_authentication.store import sessions as session_store
from byway_authentication.store.users import UserRecord

INVALID_REFRESH = "This refresh token is invalid or expired; log in again"
REUSED_REFRESH = "This refresh token was already used: every session of this login is now closed; log in again"


def new_secret() -> str:
    """A random URL-safe secret (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """How a secret is stored: its SHA-256, hex (the secrets are random, so no salt or stretching is needed)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def auth_payload(plugin: PluginRuntime, user: UserRecord, refresh_token: str) -> dict[str, Any]:
    """The GraphQL ``AuthPayload``: a new access token with the user's current roles."""
    access = plugin.tokens.issue_access_token(user.id, user.roles, email=user.email)
    return {
        "token": access.token,
        "refreshToken": refresh_token,
        "expiresAt": iso_utc(access.expires_at),
        "user": user.to_graphql(),
    }


async def start_session(plugin: PluginRuntime, session: AsyncSession, user: UserRecord) -> dict[str, Any]:
    """Start a token family for ``user`` (the caller commits); the ``AuthPayload``."""
    refresh = new_secret()
    await session_store.add_refresh_token(
        session,
        user_id=user.id,
        family_id=new_id(),
        token_hash=hash_secret(refresh),
        now=utcnow(),
        ttl=timedelta(seconds=config_of(plugin).refresh_token_ttl_seconds),
    )
    return auth_payload(plugin, user, refresh)


async def rotate(plugin: PluginRuntime, refresh_token: str) -> dict[str, Any]:
    """Spend ``refresh_token`` and return the family's next one (see the module's doc)."""
    now = utcnow()
    async with plugin.sessions() as session:
        row = await session_store.refresh_by_hash(session, hash_secret(refresh_token))
        if row is None or row.revoked_at is not None:
            raise BadUserInput(INVALID_REFRESH, field="token")
        if row.used_at is not None or not await session_store.use_refresh_token(session, row.id, now):
            revoked = await session_store.revoke_family(session, row.family_id, now)
            await session.commit()
            plugin.log.warning(
                "refresh token reused for user %s: family %s revoked (%d live tokens)",
                row.user_id,
                row.family_id,
                revoked,
            )
            raise BadUserInput(REUSED_REFRESH, field="token")
        if row.expires_at <= now:
            await session.rollback()
            raise BadUserInput(INVALID_REFRESH, field="token")
        user = await store.user_by_id(session, row.user_id)
        if user is None:
            await session.rollback()
            raise BadUserInput(INVALID_REFRESH, field="token")
        refresh = new_secret()
        await session_store.add_refresh_token(
            session,
            user_id=user.id,
            family_id=row.family_id,
            token_hash=hash_secret(refresh),
            now=now,
            ttl=timedelta(seconds=config_of(plugin).refresh_token_ttl_seconds),
        )
        await session.commit()
    return auth_payload(plugin, user, refresh)


async def logout(plugin: PluginRuntime, refresh_token: str) -> bool:
    """Close the session (token family) of ``refresh_token``; True, also when it was already closed."""
    async with plugin.sessions() as session:
        row = await session_store.refresh_by_hash(session, hash_secret(refresh_token))
        if row is None:
            raise BadUserInput(INVALID_REFRESH, field="token")
        await session_store.revoke_family(session, row.family_id, utcnow())
        await session.commit()
    return True


async def revoke_all(session: AsyncSession, user_id: str) -> int:
    """Revoke every refresh token of a user (the caller commits); how many were live."""
    return await session_store.revoke_user_tokens(session, user_id, utcnow())
