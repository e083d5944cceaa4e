"""Rate limits on guessing: failed logins per account and per client address, reset requests, bad tokens.

Counted in the plugin's database (``rate_events``), so every worker and process shares them. An
account's failures are keyed by its normalised email whether or not the account exists (the
limits reveal nothing), and a good login clears them. The address budget counts failures only,
so an address full of people logging in successfully is never limited, and one account under
attack does not slow any other account.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from byway.errors import RateLimited
from byway_authentication import observability
from byway_authentication.config import AuthenticationConfig
from byway_authentication.store import limits

LOGIN_ACCOUNT = "login:account"
LOGIN_ADDRESS = "login:address"
RESET_ACCOUNT = "reset:account"
RESET_ADDRESS = "reset:address"
VERIFY_ACCOUNT = "verify:account"
TOKEN_ADDRESS = "token:address"


def _refuse(session: AsyncSession, action: str, message: str, until: datetime, now: datetime) -> RateLimited:
    observability.rate_limited(session, action)
    return RateLimited(message, retry_after_seconds=max(1, math.ceil((until - now).total_seconds())))


def backoff_seconds(config: AuthenticationConfig, failures: int) -> float:
    """How long an account waits after ``failures`` recent failures (0 before ``login_backoff_after``)."""
    if failures < config.login_backoff_after or failures <= 0:
        return 0.0
    return float(config.login_backoff_seconds * 2 ** (failures - config.login_backoff_after))


async def check_login(
    session: AsyncSession, config: AuthenticationConfig, *, account: str, address: str | None, now: datetime
) -> None:
    """Refuse (``RateLimited``) a login attempt for ``account`` from ``address`` that is over a limit."""
    span = timedelta(seconds=config.login_window_seconds)
    if address is not None:
        by_address = await limits.window(session, LOGIN_ADDRESS, address, now - span)
        if by_address.count >= config.login_address_failures and by_address.oldest is not None:
            raise _refuse(
                session,
                "login",
                "Too many failed logins from your network; try again later",
                by_address.oldest + span,
                now,
            )
    by_account = await limits.window(session, LOGIN_ACCOUNT, account, now - span)
    if by_account.count >= config.login_account_failures and by_account.oldest is not None:
        raise _refuse(
            session, "login", "Too many failed logins for this account; try again later", by_account.oldest + span, now
        )
    wait = backoff_seconds(config, by_account.count)
    if wait and by_account.newest is not None and by_account.newest + timedelta(seconds=wait) > now:
        raise _refuse(
            session,
            "login",
            "Too many failed logins for this account; wait before trying again",
            by_account.newest + timedelta(seconds=wait),
            now,
        )


async def login_failed(session: AsyncSession, *, account: str, address: str | None, now: datetime) -> None:
    """Count a failed login (the caller commits)."""
    await limits.add_event(session, LOGIN_ACCOUNT, account, now)
    if address is not None:
        await limits.add_event(session, LOGIN_ADDRESS, address, now)


async def login_succeeded(session: AsyncSession, *, account: str) -> None:
    """A good password clears the account's failures (not the address's; the caller commits)."""
    await limits.clear(session, LOGIN_ACCOUNT, account)


async def take_email_request(
    session: AsyncSession,
    config: AuthenticationConfig,
    *,
    scope: str,
    account: str,
    address: str | None,
    now: datetime,
) -> None:
    """Count a request for a reset or verification email, or refuse it when over a limit (the caller commits)."""
    span = timedelta(seconds=config.reset_window_seconds)
    if address is not None:
        by_address = await limits.window(session, RESET_ADDRESS, address, now - span)
        if by_address.count >= config.reset_address_requests and by_address.oldest is not None:
            raise _refuse(
                session,
                "email",
                "Too many email requests from your network; try again later",
                by_address.oldest + span,
                now,
            )
    by_account = await limits.window(session, scope, account, now - span)
    if by_account.count >= config.reset_account_requests and by_account.oldest is not None:
        raise _refuse(
            session, "email", "Too many emails asked for this address; try again later", by_account.oldest + span, now
        )
    await limits.add_event(session, scope, account, now)
    if address is not None:
        await limits.add_event(session, RESET_ADDRESS, address, now)


async def check_token_address(
    session: AsyncSession, config: AuthenticationConfig, *, address: str | None, now: datetime
) -> None:
    """Refuse an address that presented too many invalid reset or verification tokens."""
    if address is None:
        return
    span = timedelta(seconds=config.login_window_seconds)
    seen = await limits.window(session, TOKEN_ADDRESS, address, now - span)
    if seen.count >= config.token_address_failures and seen.oldest is not None:
        raise _refuse(
            session, "token", "Too many invalid links tried from your network; try again later", seen.oldest + span, now
        )


async def token_failed(session: AsyncSession, *, address: str | None, now: datetime) -> None:
    """Count an invalid reset or verification token (the caller commits)."""
    if address is not None:
        await limits.add_event(session, TOKEN_ADDRESS, address, now)
