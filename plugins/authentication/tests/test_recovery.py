"""Password reset and email verification through the outbox, notifications and a real SMTP server."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import byway_notifications.plugin as notifications_plugin
import pytest
from byway_authentication import outbox as outbox_job
from byway_authentication.models import audit_log, email_outbox, one_time_tokens, users
from byway_notifications.testing import SmtpSink
from sqlalchemy import select, update

from byway.db import utcnow
from byway.settings import Settings
from byway.testing import FailingTransport, TestApp, error_codes, running_app

from .conftest import PLUGINS

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a whole new secret"
AUTH = "authentication"
REGISTER = (
    'mutation R($e: String!) { register(email: $e, password: "correct horse battery") '
    "{ token refreshToken user { id emailVerified } } }"
)
LOGIN = "mutation L($e: String!, $p: String!) { login(email: $e, password: $p) { token user { id } } }"
REQUEST_RESET = "mutation Q($e: String!) { requestPasswordReset(email: $e) }"
RESET = (
    "mutation S($t: String!, $p: String!) "
    "{ resetPassword(token: $t, newPassword: $p) { token refreshToken user { id emailVerified } } }"
)
REFRESH = "mutation F($r: String!) { refreshToken(refreshToken: $r) { token } }"
VERIFY = "mutation V($t: String!) { verifyEmail(token: $t) { id emailVerified } }"
REQUEST_VERIFY = "mutation { requestEmailVerification }"
FAST = {"outbox_interval_seconds": 0.05, "outbox_retry_base_seconds": 0.05, "outbox_retry_max_seconds": 0.2}
TOKEN_IN_LINK = re.compile(r"(https?://\S+?)\?token=([A-Za-z0-9_\-]+)")


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def mail_settings(auth_settings: Settings, smtp: SmtpSink, **extra: Any) -> Settings:
    plugins = {
        "authentication": {**auth_settings.plugins["authentication"], **FAST},
        "notifications": {"smtp_url": smtp.url, "deliver_interval_seconds": 0.05, "retry_base_seconds": 0.05},
    }
    return auth_settings.with_overrides(plugins=plugins, public_base_url="https://learn.example.org", **extra)


@pytest.fixture
async def mail_app(auth_settings: Settings, smtp: SmtpSink, database_url: str) -> AsyncIterator[TestApp]:
    settings = mail_settings(auth_settings, smtp, database_url=database_url)
    async with running_app([*PLUGINS, notifications_plugin], settings) as app:
        yield app


def link_of(text: str) -> tuple[str, str]:
    found = TOKEN_IN_LINK.search(text)
    assert found, text
    return found.group(1), found.group(2)


async def ok(app: TestApp, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
    body = await app.gql(AUTH, query, variables, token=token)
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


def refused(body: dict[str, Any], code: str = "BAD_USER_INPUT", field: str | None = "token") -> None:
    assert error_codes(body) == [code], body
    if field:
        assert body["errors"][0]["extensions"]["field"] == field


async def outbox_rows(app: TestApp) -> list[Any]:
    async with app.host.plugins[AUTH].sessions() as session:
        return list((await session.execute(select(email_outbox).order_by(email_outbox.c.created_at))).all())


async def test_registration_sends_a_verification_email_and_verify_email_works(
    mail_app: TestApp, smtp: SmtpSink
) -> None:
    reg = await ok(mail_app, REGISTER, {"e": "Ada@Example.org"})
    assert reg["user"]["emailVerified"] is False
    [mail] = await smtp.wait_for("Ada@Example.org")
    assert mail.header("Subject") == "Confirm your email address"
    base, token = link_of(mail.part("plain"))
    # No storefront here: the link opens the plugin's own page on the public base URL.
    assert base == "https://learn.example.org/api/authentication/verify-email"
    assert f"{base}?token={token}" in mail.part("html")

    verified = await ok(mail_app, VERIFY, {"t": token})
    assert verified == {"id": reg["user"]["id"], "emailVerified": True}
    refused(await mail_app.gql(AUTH, VERIFY, {"t": token}))  # single use
    refused(await mail_app.gql(AUTH, VERIFY, {"t": "made-up"}))
    # Already verified: asking again sends nothing more.
    assert await ok(mail_app, REQUEST_VERIFY, token=reg["token"]) is True
    [row] = await outbox_rows(mail_app)
    assert row.status == "sent" and row.message is None  # the link's secret is not kept
    async with mail_app.host.plugins[AUTH].sessions() as session:
        hashes = list((await session.execute(select(one_time_tokens.c.token_hash))).scalars())
    assert token not in hashes and len(hashes) == 1
    assert len(smtp.to("Ada@Example.org")) == 1


async def test_request_email_verification_sends_a_new_link(mail_app: TestApp, smtp: SmtpSink) -> None:
    reg = await ok(mail_app, REGISTER, {"e": "sam@example.org"})
    await smtp.wait_for("sam@example.org")
    assert await ok(mail_app, REQUEST_VERIFY, token=reg["token"]) is True
    mails = await smtp.wait_for("sam@example.org", 2)
    _, token = link_of(mails[1].part("plain"))
    assert (await ok(mail_app, VERIFY, {"t": token}))["emailVerified"] is True
    refused(await mail_app.gql(AUTH, REQUEST_VERIFY), "UNAUTHENTICATED", None)


async def test_password_reset_end_to_end(mail_app: TestApp, smtp: SmtpSink) -> None:
    reg = await ok(mail_app, REGISTER, {"e": "kim@example.org"})
    await smtp.wait_for("kim@example.org")
    assert await ok(mail_app, REQUEST_RESET, {"e": "KIM@example.org"}) is True
    mails = await smtp.wait_for("kim@example.org", 2)
    reset_mail = mails[1]
    assert reset_mail.header("Subject") == "Reset your password"
    base, token = link_of(reset_mail.part("plain"))
    assert base == "https://learn.example.org/api/authentication/reset-password"

    refused(await mail_app.gql(AUTH, RESET, {"t": token, "p": "short"}), field="newPassword")
    refused(await mail_app.gql(AUTH, RESET, {"t": token, "p": "kim@example.org"}), field="newPassword")
    done = await ok(mail_app, RESET, {"t": token, "p": NEW_PASSWORD})  # the refusals left the link usable
    assert done["user"] == {"id": reg["user"]["id"], "emailVerified": True}
    refused(await mail_app.gql(AUTH, RESET, {"t": token, "p": "yet another secret"}))  # single use
    refused(await mail_app.gql(AUTH, REFRESH, {"r": reg["refreshToken"]}))  # old sessions closed
    assert "errors" not in await mail_app.gql(AUTH, REFRESH, {"r": done["refreshToken"]})
    refused(await mail_app.gql(AUTH, LOGIN, {"e": "kim@example.org", "p": PASSWORD}), "UNAUTHENTICATED", None)
    assert (await ok(mail_app, LOGIN, {"e": "kim@example.org", "p": NEW_PASSWORD}))["user"]["id"] == reg["user"]["id"]
    async with mail_app.host.plugins[AUTH].sessions() as session:
        [entry] = (await session.execute(select(audit_log).where(audit_log.c.action == "users.reset_password"))).all()
    assert entry.target == reg["user"]["id"] and entry.actor_kind == "anonymous"
    assert token not in (entry.details or "")


async def test_expired_and_unknown_reset_tokens_are_refused(mail_app: TestApp, smtp: SmtpSink) -> None:
    await ok(mail_app, REGISTER, {"e": "old@example.org"})
    await ok(mail_app, REQUEST_RESET, {"e": "old@example.org"})
    mails = await smtp.wait_for("old@example.org", 2)
    _, token = link_of(mails[-1].part("plain"))
    async with mail_app.host.plugins[AUTH].sessions() as session:
        await session.execute(
            update(one_time_tokens)
            .where(one_time_tokens.c.purpose == "reset")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    refused(await mail_app.gql(AUTH, RESET, {"t": token, "p": NEW_PASSWORD}))
    refused(await mail_app.gql(AUTH, RESET, {"t": "x" * 43, "p": NEW_PASSWORD}))
    assert "errors" not in await mail_app.gql(AUTH, LOGIN, {"e": "old@example.org", "p": PASSWORD})


async def test_reset_for_an_unknown_address_answers_the_same_and_sends_nothing(
    mail_app: TestApp, smtp: SmtpSink
) -> None:
    await ok(mail_app, REGISTER, {"e": "known@example.org"})
    await smtp.wait_for("known@example.org")
    before = len(await outbox_rows(mail_app))
    known = await mail_app.gql(AUTH, REQUEST_RESET, {"e": "known@example.org"})
    unknown = await mail_app.gql(AUTH, REQUEST_RESET, {"e": "nobody@example.org"})
    assert known == unknown == {"data": {"requestPasswordReset": True}, "_status": 200}
    # The request did the same work for both (one outbox row each); the job told them apart.
    rows = (await outbox_rows(mail_app))[before:]
    assert [(r.kind, r.email_normalized) for r in rows] == [
        ("reset", "known@example.org"),
        ("reset", "nobody@example.org"),
    ]
    await smtp.wait_for("known@example.org", 2)
    # drain() leaves a row the background job has claimed to that job: wait until both are done.
    for _ in range(100):
        await outbox_job.drain(mail_app.host.plugins[AUTH])
        statuses = {r.email_normalized: r.status for r in (await outbox_rows(mail_app))[before:]}
        if "pending" not in statuses.values():
            break
        await asyncio.sleep(0.1)
    assert statuses == {"known@example.org": "sent", "nobody@example.org": "skipped"}
    assert smtp.to("nobody@example.org") == []
    refused(await mail_app.gql(AUTH, REQUEST_RESET, {"e": "not an email"}), field="email")


async def test_emails_wait_for_notifications_to_come_back(mail_app: TestApp, smtp: SmtpSink) -> None:
    host = mail_app.host
    with host.override_transport("notifications", FailingTransport(host.transport_for("notifications"))):
        reg = await ok(mail_app, REGISTER, {"e": "patient@example.org"})  # registering does not wait or fail
        assert reg["user"]["id"]
        for _ in range(200):
            [row] = [r for r in await outbox_rows(mail_app) if r.user_id == reg["user"]["id"]]
            if row.attempts >= 2:
                break
            await _sleep()
        assert row.status == "pending" and "unavailable" in (row.last_error or "").lower()
        assert smtp.to("patient@example.org") == []
    [mail] = await smtp.wait_for("patient@example.org")
    assert mail.header("Subject") == "Confirm your email address"


async def _sleep() -> None:
    import asyncio

    await asyncio.sleep(0.02)


async def test_without_notifications_reset_is_unavailable_and_the_rest_works(auth_settings: Settings) -> None:
    async with running_app(PLUGINS, auth_settings) as app:
        reg = await ok(app, REGISTER, {"e": "alone@example.org"})
        body = await app.gql(AUTH, REQUEST_RESET, {"e": "alone@example.org"})
        refused(body, "UPSTREAM_UNAVAILABLE", None)
        assert "notifications plugin is not installed" in body["errors"][0]["message"]
        refused(await app.gql(AUTH, REQUEST_VERIFY, token=reg["token"]), "UPSTREAM_UNAVAILABLE", None)
        assert await outbox_rows(app) == []
        assert "errors" not in await app.gql(AUTH, LOGIN, {"e": "alone@example.org", "p": PASSWORD})


async def test_the_plugin_pages_verify_and_reset_by_form(mail_app: TestApp, smtp: SmtpSink) -> None:
    await ok(mail_app, REGISTER, {"e": "form@example.org"})
    [mail] = await smtp.wait_for("form@example.org")
    _, token = link_of(mail.part("plain"))
    page = await mail_app.client.get("/api/authentication/verify-email", params={"token": token})
    assert page.status_code == 200 and 'method="post"' in page.text and token in page.text
    async with mail_app.host.plugins[AUTH].sessions() as session:  # a GET spends nothing
        assert (await session.scalar(select(users.c.email_verified_at))) is None
    done = await mail_app.client.post("/api/authentication/verify-email", data={"token": token})
    assert done.status_code == 200 and "form@example.org is confirmed" in done.text
    again = await mail_app.client.post("/api/authentication/verify-email", data={"token": token})
    assert again.status_code == 400 and "invalid, used or expired" in again.text

    await ok(mail_app, REQUEST_RESET, {"e": "form@example.org"})
    mails = await smtp.wait_for("form@example.org", 2)
    _, reset_token = link_of(mails[1].part("plain"))
    weak = await mail_app.client.post(
        "/api/authentication/reset-password", data={"token": reset_token, "password": "x"}
    )
    assert weak.status_code == 400 and 'name="password"' in weak.text  # the form again, with the problem
    good = await mail_app.client.post(
        "/api/authentication/reset-password", data={"token": reset_token, "password": NEW_PASSWORD}
    )
    assert good.status_code == 200 and "is changed" in good.text
    assert "errors" not in await mail_app.gql(AUTH, LOGIN, {"e": "form@example.org", "p": NEW_PASSWORD})


def test_links_open_the_storefront_pages_when_it_is_there(auth_settings: Settings) -> None:
    from byway_authentication import emails
    from byway_authentication import plugin as authentication_plugin

    from byway.host import Host

    base = auth_settings.with_overrides(public_base_url="https://shop.example.org/")
    alone = Host(base, [authentication_plugin], load_entrypoints=False).plugins[AUTH]
    assert emails.link(alone, "reset", "a b") == "https://shop.example.org/api/authentication/reset-password?token=a+b"
    with_store = base.with_overrides(plugin_urls={"storefront": "http://10.0.0.2:8000"})
    runtime = Host(with_store, [authentication_plugin], load_entrypoints=False).plugins[AUTH]
    assert emails.link(runtime, "reset", "abc") == "https://shop.example.org/reset-password?token=abc"
    assert emails.link(runtime, "verify", "abc") == "https://shop.example.org/verify-email?token=abc"
