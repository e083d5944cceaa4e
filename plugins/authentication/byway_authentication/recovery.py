"""Password reset and email verification: emailed one-time links (used by resolvers and routes)."""

from __future__ import annotations

from typing import Any

from byway import record_audit
from byway.auth import ANONYMOUS_PRINCIPAL, Principal
from byway.db import utcnow
from byway.errors import BadUserInput, UpstreamUnavailable
from byway.runtime import PluginRuntime
from byway_authentication import accounts, ratelimit, sessions, store
from byway_authentication.config import config_of
from byway_authentication.models import audit_log
from byway_authentication.passwords import hash_password
from byway_authentication.store import outbox
from byway_authentication.store import sessions as session_store
from byway_authentication.validation import check_password, is_valid_email, normalize_email

RESET, VERIFY = "reset", "verify"
BAD_RESET = "This password-reset link is invalid, used or expired; ask for a new one"
BAD_VERIFY = "This verification link is invalid, used or expired; ask for a new one"
NO_MAIL = "Email cannot be sent: the notifications plugin is not installed, so {what} is unavailable"


def _require_mail(plugin: PluginRuntime, what: str) -> None:
    if not accounts.can_send_email(plugin):
        raise UpstreamUnavailable(NO_MAIL.format(what=what), plugin="notifications")


async def request_password_reset(plugin: PluginRuntime, email: str, address: str | None) -> bool:
    """Queue a reset email for ``email``; True whether or not an account has it.

    The request does the same work either way (a rate-limit count and an outbox row keyed by the
    address); the outbox job finds the account, or settles the row as skipped.
    """
    if not is_valid_email(email):
        raise BadUserInput("Enter a valid email address, like name@example.com", field="email")
    _require_mail(plugin, "password reset")
    account, now = normalize_email(email), utcnow()
    async with plugin.sessions() as session:
        await ratelimit.take_email_request(
            session, config_of(plugin), scope=ratelimit.RESET_ACCOUNT, account=account, address=address, now=now
        )
        await outbox.add(session, outbox.RESET, now=now, email=account)
        await session.commit()
    return True


async def reset_password(plugin: PluginRuntime, token: str, new_password: str, address: str | None) -> dict[str, Any]:
    """Set a new password with a reset token; every refresh token is revoked, a new session starts."""
    config, now, token_hash = config_of(plugin), utcnow(), sessions.hash_secret(token)
    async with plugin.sessions() as session:
        await ratelimit.check_token_address(session, config, address=address, now=now)
        user_id = await session_store.peek_one_time_token(session, purpose=RESET, token_hash=token_hash, now=now)
        user = await store.user_by_id(session, user_id) if user_id else None
        if user is None:
            await ratelimit.token_failed(session, address=address, now=now)
            await session.commit()
            raise BadUserInput(BAD_RESET, field="token")
    # A refused new password leaves the link usable.
    check_password(new_password, user.email, field="newPassword")
    new_hash = await hash_password(accounts.hash_params(plugin), new_password)
    async with plugin.sessions() as session:
        if await session_store.use_one_time_token(session, purpose=RESET, token_hash=token_hash, now=utcnow()) is None:
            raise BadUserInput(BAD_RESET, field="token")  # spent meanwhile by a concurrent request
        await store.set_password_hash(session, user.id, new_hash)
        await session_store.spend_all_one_time_tokens(session, user_id=user.id, purpose=RESET, now=now)
        await store.mark_email_verified(session, user.id)  # the link proved the address
        closed = await sessions.revoke_all(session, user.id)
        await record_audit(
            session,
            audit_log,
            principal=ANONYMOUS_PRINCIPAL,
            action="users.reset_password",
            target=user.id,
            details={"sessions_closed": closed},
            client_address=address,
        )
        await ratelimit.login_succeeded(session, account=normalize_email(user.email))
        user = await store.user_by_id(session, user.id) or user
        payload = await sessions.start_session(plugin, session, user)
        await session.commit()
    return payload


async def request_email_verification(plugin: PluginRuntime, principal: Principal, address: str | None) -> bool:
    """Queue a new verification email for the caller (nothing when already verified); True."""
    user = await accounts.user_of(plugin, principal)
    if user.email_verified_at is not None:
        return True
    _require_mail(plugin, "email verification")
    now = utcnow()
    async with plugin.sessions() as session:
        await ratelimit.take_email_request(
            session, config_of(plugin), scope=ratelimit.VERIFY_ACCOUNT, account=user.id, address=address, now=now
        )
        await outbox.add(session, outbox.VERIFY, now=now, user_id=user.id)
        await session.commit()
    return True


async def verify_email(plugin: PluginRuntime, token: str, address: str | None) -> dict[str, Any]:
    """Spend a verification token and mark the user's email verified; the ``User``."""
    config, now = config_of(plugin), utcnow()
    async with plugin.sessions() as session:
        await ratelimit.check_token_address(session, config, address=address, now=now)
        user_id = await session_store.use_one_time_token(
            session, purpose=VERIFY, token_hash=sessions.hash_secret(token), now=now
        )
        if user_id is None:
            await ratelimit.token_failed(session, address=address, now=now)
            await session.commit()
            raise BadUserInput(BAD_VERIFY, field="token")
        await store.mark_email_verified(session, user_id)
        await session.commit()
        user = await store.user_by_id(session, user_id)
    if user is None:
        raise BadUserInput(BAD_VERIFY, field="token")
    return user.to_graphql()
