"""The whole account-recovery journey over real HTTP, with a real SMTP server receiving the emails.

register -> verification email -> verifyEmail -> requestPasswordReset -> reset email ->
resetPassword -> every earlier refresh token refused, the new password logs in. The app is served
by uvicorn and every cross-plugin call (authentication's outbox -> notifications) goes over HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from byway_authentication import plugin as authentication
from byway_notifications import plugin as notifications
from byway_notifications.testing import SmtpSink
from byway_students_internal import plugin as students_internal
from byway_teach import plugin as teach
from byway_teach_internal import plugin as teach_internal

from byway.settings import Settings
from byway.testing import TestApp, error_codes, running_app

AUTH = "authentication"
PASSWORD = "correct horse battery"
NEW_PASSWORD = "remembered it at last"
PUBLIC = "https://courses.example.org"
PAYLOAD = "token refreshToken expiresAt user { id email emailVerified }"
LINK = re.compile(r"(https://\S+?)\?token=([A-Za-z0-9_\-]+)")


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


async def call(app: TestApp, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
    body = await app.gql(AUTH, query, variables, token=token)
    assert "errors" not in body and body["_status"] == 200, body
    return next(iter(body["data"].values()))


def token_of(text: str, page: str) -> str:
    found = LINK.search(text)
    assert found, text
    assert found.group(1) == f"{PUBLIC}/api/authentication/{page}"
    return found.group(2)


async def test_recovery_journey_over_http(byway_settings: Settings, smtp: SmtpSink, database_url: str) -> None:
    settings = byway_settings.with_overrides(
        database_url=database_url,
        public_base_url=PUBLIC,
        plugins={
            AUTH: {
                "password_time_cost": 1,
                "password_memory_kib": 1024,
                "password_parallelism": 1,
                "outbox_interval_seconds": 0.05,
            },
            "notifications": {
                "smtp_url": smtp.url,
                "deliver_interval_seconds": 0.05,
                "sender": "Byway <hello@example.org>",
            },
        },
    )
    plugins = [authentication, teach, teach_internal, students_internal, notifications]
    async with running_app(plugins, settings, transport="http") as app:
        assert str(app.client.base_url).startswith("http://127.0.0.1:")
        registered = await call(
            app,
            'mutation R($p: String!) { register(email: "Journey@Example.org", password: $p, firstName: "Jo") '
            f"{{ {PAYLOAD} }} }}",
            {"p": PASSWORD},
        )
        assert registered["user"]["emailVerified"] is False

        # 1. The verification email reaches the SMTP server.
        [welcome] = await smtp.wait_for("Journey@Example.org")
        assert welcome.rcpt_tos == ("Journey@Example.org",) and welcome.mail_from == "hello@example.org"
        assert welcome.header("From") == "Byway <hello@example.org>"
        assert welcome.header("To") == "Journey@Example.org"
        assert welcome.header("Subject") == "Confirm your email address"
        assert "Hello Jo," in welcome.part("plain")
        verify_token = token_of(welcome.part("plain"), "verify-email")

        verified = await call(
            app, "mutation V($t: String!) { verifyEmail(token: $t) { id emailVerified } }", {"t": verify_token}
        )
        assert verified == {"id": registered["user"]["id"], "emailVerified": True}
        me = await call(app, "{ me { emailVerified } }", token=registered["token"])
        assert me == {"emailVerified": True}

        # 2. Another device logs in; then the password is forgotten.
        laptop = await call(
            app, f'mutation {{ login(email: "journey@example.org", password: "{PASSWORD}") {{ {PAYLOAD} }} }}'
        )
        assert await call(app, 'mutation { requestPasswordReset(email: "JOURNEY@example.org") }') is True
        mails = await smtp.wait_for("Journey@Example.org", 2)
        reset_mail = mails[1]
        assert reset_mail.header("Subject") == "Reset your password"
        reset_token = token_of(reset_mail.part("plain"), "reset-password")
        assert f"{PUBLIC}/api/authentication/reset-password?token={reset_token}" in reset_mail.part("html")
        assert reset_mail.header("Message-ID") != welcome.header("Message-ID")

        # 3. Reset: a new session; every earlier refresh token is refused; the new password works.
        reset = await call(
            app,
            f"mutation R($t: String!, $p: String!) {{ resetPassword(token: $t, newPassword: $p) {{ {PAYLOAD} }} }}",
            {"t": reset_token, "p": NEW_PASSWORD},
        )
        assert reset["user"]["id"] == registered["user"]["id"]
        refresh = "mutation F($r: String!) { refreshToken(refreshToken: $r) { token } }"
        for old in (registered["refreshToken"], laptop["refreshToken"]):
            body = await app.gql(AUTH, refresh, {"r": old})
            assert error_codes(body) == ["BAD_USER_INPUT"] and body["errors"][0]["extensions"]["field"] == "token"
        again = await app.gql(
            AUTH,
            "mutation R($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) { token } }",
            {"t": reset_token, "p": "one more try!"},
        )
        assert error_codes(again) == ["BAD_USER_INPUT"]
        old_login = await app.gql(
            AUTH, f'mutation {{ login(email: "journey@example.org", password: "{PASSWORD}") {{ token }} }}'
        )
        assert error_codes(old_login) == ["UNAUTHENTICATED"]
        fresh = await call(
            app, f'mutation {{ login(email: "journey@example.org", password: "{NEW_PASSWORD}") {{ {PAYLOAD} }} }}'
        )
        assert (await call(app, "{ me { id } }", token=fresh["token"])) == {"id": registered["user"]["id"]}
        assert (await call(app, refresh, {"r": reset["refreshToken"]}))["token"]
        assert len(smtp.to("Journey@Example.org")) == 2  # nothing else was sent
