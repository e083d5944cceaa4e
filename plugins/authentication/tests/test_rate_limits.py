"""Failed logins and reset requests are limited per account and per client address, in the database."""

from __future__ import annotations

import asyncio
from typing import Any

import byway_notifications.plugin as notifications_plugin
import pytest
from byway_authentication.config import AuthenticationConfig
from byway_authentication.models import rate_events
from byway_authentication.ratelimit import backoff_seconds
from sqlalchemy import func, select

from byway.settings import Settings
from byway.testing import TestApp, error_codes, graphql, running_app

from .conftest import PLUGINS

PASSWORD = "correct horse battery"
AUTH = "authentication"
REGISTER = 'mutation R($e: String!) { register(email: $e, password: "correct horse battery") { user { id } } }'
LOGIN = "mutation L($e: String!, $p: String!) { login(email: $e, password: $p) { token user { id } } }"
REQUEST_RESET = "mutation Q($e: String!) { requestPasswordReset(email: $e) }"


def limited(auth_settings: Settings, **limits: Any) -> Settings:
    config = {**auth_settings.plugins["authentication"], "login_backoff_after": 100, **limits}
    return auth_settings.with_overrides(plugins={"authentication": config})


async def login(app: TestApp, email: str, password: str, forwarded: str | None = None) -> dict[str, Any]:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    response = await app.client.post(
        f"/api/{AUTH}/graphql",
        json={"query": LOGIN, "variables": {"e": email, "p": password}},
        headers=headers,
    )
    body: dict[str, Any] = response.json()
    return body


def code(body: dict[str, Any]) -> str | None:
    codes = error_codes(body)
    return codes[0] if codes else None


async def test_failed_logins_per_account_then_rate_limited(auth_settings: Settings, database_url: str) -> None:
    settings = limited(auth_settings, login_account_failures=3).with_overrides(database_url=database_url)
    async with running_app(PLUGINS, settings) as app:
        await app.gql(AUTH, REGISTER, {"e": "ada@example.org"})
        await app.gql(AUTH, REGISTER, {"e": "bob@example.org"})
        for _ in range(3):
            assert code(await login(app, "ada@example.org", "wrong password")) == "UNAUTHENTICATED"
        over = await login(app, "Ada@Example.org", PASSWORD)  # even the right password, in any case
        assert code(over) == "RATE_LIMITED" and over["data"] is None
        retry = over["errors"][0]["extensions"]["retryAfterSeconds"]
        assert 890 <= retry <= 900
        # Another account from the same address is not slowed at all.
        assert code(await login(app, "bob@example.org", PASSWORD)) is None
        # An unknown address is limited the same way: the limit reveals nothing.
        for _ in range(3):
            assert code(await login(app, "ghost@example.org", "wrong password")) == "UNAUTHENTICATED"
        assert code(await login(app, "ghost@example.org", "wrong password")) == "RATE_LIMITED"


async def test_a_good_login_clears_the_account_failures(app: TestApp) -> None:
    await app.gql(AUTH, REGISTER, {"e": "kim@example.org"})
    plugin = app.host.plugins[AUTH]
    assert code(await login(app, "kim@example.org", "wrong password")) == "UNAUTHENTICATED"
    assert code(await login(app, "kim@example.org", PASSWORD)) is None
    async with plugin.sessions() as session:
        left = await session.scalar(select(func.count()).where(rate_events.c.scope == "login:account"))
        by_address = await session.scalar(select(func.count()).where(rate_events.c.scope == "login:address"))
    assert (left, by_address) == (0, 1)


def test_backoff_grows_per_failure() -> None:
    config = AuthenticationConfig(login_backoff_after=2, login_backoff_seconds=2.0)
    assert [backoff_seconds(config, n) for n in range(6)] == [0, 0, 2, 4, 8, 16]


async def test_growing_back_off_between_attempts(auth_settings: Settings) -> None:
    settings = limited(auth_settings, login_backoff_after=1, login_backoff_seconds=1.0, login_account_failures=9)
    async with running_app(PLUGINS, settings) as app:
        await app.gql(AUTH, REGISTER, {"e": "slow@example.org"})
        assert code(await login(app, "slow@example.org", "wrong password")) == "UNAUTHENTICATED"
        waiting = await login(app, "slow@example.org", PASSWORD)
        assert code(waiting) == "RATE_LIMITED" and waiting["errors"][0]["extensions"]["retryAfterSeconds"] == 1
        await asyncio.sleep(1.1)
        assert code(await login(app, "slow@example.org", "wrong again")) == "UNAUTHENTICATED"
        second = await login(app, "slow@example.org", PASSWORD)  # two failures: twice as long
        assert code(second) == "RATE_LIMITED" and second["errors"][0]["extensions"]["retryAfterSeconds"] == 2
        await asyncio.sleep(2.1)
        assert code(await login(app, "slow@example.org", PASSWORD)) is None


async def test_failures_per_address_count_failures_only(auth_settings: Settings) -> None:
    settings = limited(auth_settings, login_address_failures=4)
    settings = settings.with_overrides(trusted_proxies=("127.0.0.1",))
    async with running_app(PLUGINS, settings) as app:
        await app.gql(AUTH, REGISTER, {"e": "ok@example.org"})
        attacker, neighbour = "198.51.100.7", "203.0.113.9"
        for _ in range(10):  # successes never count
            assert code(await login(app, "ok@example.org", PASSWORD, attacker)) is None
        for i in range(4):
            assert code(await login(app, f"user{i}@example.org", "guess", attacker)) == "UNAUTHENTICATED"
        blocked = await login(app, "ok@example.org", PASSWORD, attacker)
        assert code(blocked) == "RATE_LIMITED" and blocked["errors"][0]["extensions"]["retryAfterSeconds"] > 0
        # The address comes from the trusted proxy's X-Forwarded-For: another client is unaffected.
        assert code(await login(app, "ok@example.org", PASSWORD, neighbour)) is None


async def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(auth_settings: Settings) -> None:
    async with running_app(PLUGINS, limited(auth_settings, login_address_failures=3)) as app:
        for i in range(3):  # each claims another address, but all come from one socket
            assert code(await login(app, f"u{i}@example.org", "guess", f"192.0.2.{i}")) == "UNAUTHENTICATED"
        assert code(await login(app, "u9@example.org", "guess", "192.0.2.99")) == "RATE_LIMITED"


async def test_reset_requests_are_limited(auth_settings: Settings) -> None:
    config = {**auth_settings.plugins["authentication"], "reset_account_requests": 2, "reset_address_requests": 3}
    settings = auth_settings.with_overrides(plugins={"authentication": config})
    async with running_app([*PLUGINS, notifications_plugin], settings) as app:
        for _ in range(2):
            assert (await app.gql(AUTH, REQUEST_RESET, {"e": "a@example.org"}))["data"] == {
                "requestPasswordReset": True
            }
        over = await app.gql(AUTH, REQUEST_RESET, {"e": "A@example.org"})
        assert error_codes(over) == ["RATE_LIMITED"] and over["errors"][0]["extensions"]["retryAfterSeconds"] > 0
        assert (await app.gql(AUTH, REQUEST_RESET, {"e": "b@example.org"}))["data"] == {"requestPasswordReset": True}
        per_address = await app.gql(AUTH, REQUEST_RESET, {"e": "c@example.org"})  # 4th from this address
        assert error_codes(per_address) == ["RATE_LIMITED"]


@pytest.mark.parametrize("transport", ["inprocess", "http"])
async def test_limits_are_shared_by_two_app_instances_on_one_database(
    auth_settings: Settings, database_url: str, transport: str
) -> None:
    """Two processes' worth of apps (each its own engine and token cache) on one database."""
    settings = limited(auth_settings, login_account_failures=4).with_overrides(database_url=database_url)
    async with running_app(PLUGINS, settings, transport=transport) as one:
        await one.gql(AUTH, REGISTER, {"e": "shared@example.org"})
        async with running_app(PLUGINS, settings, transport=transport) as two:
            assert one.host is not two.host
            for app in (one, two, one, two):  # alternating instances: four failures in all
                assert code(await login(app, "shared@example.org", "wrong password")) == "UNAUTHENTICATED"
            for app in (one, two):
                assert code(await login(app, "shared@example.org", PASSWORD)) == "RATE_LIMITED"
            body = await graphql(two.client, AUTH, LOGIN, {"e": "other@example.org", "p": "x" * 12})
            assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_pruning_removes_old_events_tokens_and_settled_emails(app: TestApp) -> None:
    from datetime import timedelta

    from byway_authentication import outbox as outbox_job
    from byway_authentication.models import email_outbox, refresh_tokens
    from byway_authentication.store import limits, outbox

    from byway.db import utcnow

    await app.gql(AUTH, REGISTER, {"e": "prune@example.org"})
    assert code(await login(app, "prune@example.org", "wrong password")) == "UNAUTHENTICATED"
    plugin = app.host.plugins[AUTH]
    old = utcnow() - timedelta(days=40)
    async with plugin.sessions() as session:
        await limits.add_event(session, "login:account", "someone", old)
        stale = await outbox.add(session, outbox.RESET, now=old, email="gone@example.org")
        await outbox.settle(session, stale, outbox.SKIPPED, now=old)
        waiting = await outbox.add(session, outbox.RESET, now=old, email="waiting@example.org")
        await session.execute(refresh_tokens.update().values(expires_at=old))
        await session.commit()
    await outbox_job._prune(plugin)
    async with plugin.sessions() as session:
        keys = list((await session.execute(select(rate_events.c.key))).scalars())
        entries = list((await session.execute(select(email_outbox.c.id))).scalars())
        tokens = await session.scalar(select(func.count()).select_from(refresh_tokens))
    assert "someone" not in keys and "prune@example.org" in keys  # recent failures stay
    assert stale not in entries and waiting in entries  # pending entries are never pruned
    assert tokens == 0
