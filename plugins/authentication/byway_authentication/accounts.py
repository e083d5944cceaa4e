"""Registering, logging in and changing a password (used by the resolvers; no GraphQL here)."""

from __future__ import annotations

from typing import Any

from byway import record_audit
from byway.auth import Principal
from byway.db import utcnow
from byway.errors import BadUserInput, RateLimited, Unauthenticated
from byway.runtime import PluginRuntime
from byway_authentication import observability, ratelimit, sessions, store
from byway_authentication.config import config_of
from byway_authentication.models import audit_log
from byway_authentication.passwords import MAX_PASSWORD_LENGTH, HashParams, hash_password, verify_password
from byway_authentication.store import outbox
from byway_authentication.store.users import UserRecord
from byway_authentication.validation import MAX_EMAIL_LENGTH, check_password, clean_email, clean_name, normalize_email

#: One message for an unknown email and a wrong password: the response must not tell them apart.
INVALID_CREDENTIALS = "Invalid email or password"
GONE = "Your account no longer exists; log in again"


def hash_params(plugin: PluginRuntime) -> HashParams:
    """The argon2 parameters configured for the plugin."""
    return HashParams.from_config(config_of(plugin))


def can_send_email(plugin: PluginRuntime) -> bool:
    """Whether the notifications plugin can be called (loaded here or configured by URL)."""
    return plugin.knows("notifications")


async def user_of(plugin: PluginRuntime, principal: Principal) -> UserRecord:
    """The caller's user record; UNAUTHENTICATED when the account is gone."""
    async with plugin.sessions() as session:
        user = await store.user_by_id(session, str(principal.user_id))
    if user is None:
        raise Unauthenticated(GONE)
    return user


async def register(
    plugin: PluginRuntime, email: str, password: str, first_name: str | None, last_name: str | None
) -> dict[str, Any]:
    """Create the account, queue its verification email, start a session; the ``AuthPayload``."""
    email = clean_email(email)
    check_password(password, email)
    first, last = clean_name(first_name, "firstName"), clean_name(last_name, "lastName")
    password_hash = await hash_password(hash_params(plugin), password)
    async with plugin.sessions() as session:
        user_id = await store.create_user(
            session, email=email, password_hash=password_hash, first_name=first, last_name=last
        )
        if user_id is None:
            raise BadUserInput("This email address is already registered", field="email")
        if can_send_email(plugin):
            await outbox.add(session, outbox.VERIFY, now=utcnow(), user_id=user_id)
        user = await store.user_by_id(session, user_id)
        assert user is not None
        payload = await sessions.start_session(plugin, session, user)
        await session.commit()
    return payload


async def login(plugin: PluginRuntime, email: str, password: str, address: str | None) -> dict[str, Any]:
    """Check the password (within the rate limits) and start a session; the ``AuthPayload``."""
    if len(password) > MAX_PASSWORD_LENGTH or len(email) > MAX_EMAIL_LENGTH * 2:
        # No account can have such a password: refuse without hashing megabytes.
        observability.login_failed(plugin, "bad_credentials")
        raise Unauthenticated(INVALID_CREDENTIALS)
    config, account, params = config_of(plugin), normalize_email(email), hash_params(plugin)
    async with plugin.sessions() as session:
        try:
            await ratelimit.check_login(session, config, account=account, address=address, now=utcnow())
        except RateLimited:
            observability.login_failed(plugin, "rate_limited")
            raise
        user = await store.user_by_email(session, email)
    # An unknown email is checked against a dummy hash: both refusals take the same time.
    outcome = await verify_password(params, user.password_hash if user else None, password)
    async with plugin.sessions() as session:
        if user is None or not outcome.ok:
            await ratelimit.login_failed(session, account=account, address=address, now=utcnow())
            await session.commit()
            observability.login_failed(plugin, "bad_credentials")
            raise Unauthenticated(INVALID_CREDENTIALS)
        await ratelimit.login_succeeded(session, account=account)
        if outcome.needs_rehash:
            await store.set_password_hash(session, user.id, await hash_password(params, password))
        payload = await sessions.start_session(plugin, session, user)
        await session.commit()
    return payload


async def change_password(
    plugin: PluginRuntime, principal: Principal, current: str, new: str, address: str | None
) -> dict[str, Any]:
    """Replace the caller's password; every refresh token of the user is revoked and a new session starts."""
    user = await user_of(plugin, principal)
    config, account, params = config_of(plugin), normalize_email(user.email), hash_params(plugin)
    async with plugin.sessions() as session:
        await ratelimit.check_login(session, config, account=account, address=address, now=utcnow())
    outcome = await verify_password(params, user.password_hash, current[: MAX_PASSWORD_LENGTH + 1])
    if not outcome.ok:
        async with plugin.sessions() as session:
            await ratelimit.login_failed(session, account=account, address=address, now=utcnow())
            await session.commit()
        raise BadUserInput("The current password is not right", field="currentPassword")
    check_password(new, user.email, field="newPassword")
    new_hash = await hash_password(params, new)
    async with plugin.sessions() as session:
        await store.set_password_hash(session, user.id, new_hash)
        await ratelimit.login_succeeded(session, account=account)
        closed = await sessions.revoke_all(session, user.id)
        await record_audit(
            session,
            audit_log,
            principal=principal,
            action="users.change_password",
            target=user.id,
            details={"sessions_closed": closed},
            client_address=address,
        )
        payload = await sessions.start_session(plugin, session, user)
        await session.commit()
    return payload
