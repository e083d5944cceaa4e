"""sendEmail stores first, the job delivers through a real SMTP server, with retries and back-off."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
from byway_notifications.models import messages
from byway_notifications.testing import SmtpSink
from sqlalchemy import select

from byway.testing import TestApp, error_codes

SEND = """
mutation Send($to: String!, $subject: String!, $text: String!, $html: String, $key: String) {
  sendEmail(to: $to, subject: $subject, text: $text, html: $html, key: $key)
}"""


def service(app: TestApp, name: str = "authentication") -> str:
    return app.host.tokens.service_token(name)


async def send(app: TestApp, token: str | None = None, **values: Any) -> dict[str, Any]:
    variables = {"to": "ada@example.org", "subject": "Hello", "text": "Hi Ada", **values}
    return await app.gql("notifications", SEND, variables, token=token if token is not None else service(app))


async def rows(app: TestApp) -> list[Any]:
    async with app.host.plugins["notifications"].sessions() as session:
        return list((await session.execute(select(messages).order_by(messages.c.created_at))).all())


async def wait_rows(app: TestApp, predicate: Any, within: float = 10.0) -> list[Any]:
    deadline = time.monotonic() + within
    while True:
        found = await rows(app)
        if predicate(found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met; rows: {found}")
        await asyncio.sleep(0.03)


async def test_message_is_stored_then_delivered_over_smtp(smtp_app: TestApp, smtp: SmtpSink) -> None:
    body = await send(
        smtp_app,
        to="Ada@Example.org",
        subject="Reset your password",
        text="Open https://byway.test/reset-password?token=abc",
        html="<p><a href='https://byway.test/reset-password?token=abc'>Reset</a></p>",
        key="reset:1",
    )
    assert body == {"data": {"sendEmail": True}, "_status": 200}
    [received] = await smtp.wait_for("Ada@Example.org")
    assert received.rcpt_tos == ("Ada@Example.org",)
    assert received.mail_from == "no-reply@byway.localhost"
    assert received.header("Subject") == "Reset your password"
    assert received.header("To") == "Ada@Example.org"
    assert received.header("From") == "Byway <no-reply@byway.localhost>"
    assert received.header("Date")
    [row] = await wait_rows(smtp_app, lambda r: r and r[0].status == "sent")
    assert received.header("Message-ID") == f"<{row.id}@byway.localhost>"
    assert received.part("plain").strip() == "Open https://byway.test/reset-password?token=abc"
    assert "href='https://byway.test/reset-password?token=abc'" in received.part("html")
    assert (row.sender, row.idem_key, row.transport, row.attempts) == ("authentication", "reset:1", "smtp", 1)
    assert row.to_normalized == "ada@example.org" and row.sent_at is not None


async def test_same_key_is_one_email_per_sender(smtp_app: TestApp, smtp: SmtpSink) -> None:
    for _ in range(3):
        assert (await send(smtp_app, key="receipt:o1"))["data"] == {"sendEmail": True}
    # The same key from another service is another message.
    assert (await send(smtp_app, token=service(smtp_app, "ecommerce"), key="receipt:o1"))["data"]
    await wait_rows(smtp_app, lambda r: len(r) == 2 and all(x.status == "sent" for x in r))
    await asyncio.sleep(0.2)  # a few more delivery rounds: nothing is sent twice
    assert len(smtp.to("ada@example.org")) == 2
    assert sorted(r.sender for r in await rows(smtp_app)) == ["authentication", "ecommerce"]


async def test_nothing_is_lost_while_the_smtp_server_is_down(smtp_app: TestApp, smtp: SmtpSink) -> None:
    smtp.stop()
    assert (await send(smtp_app, to="late@example.org"))["data"] == {"sendEmail": True}
    pending = await wait_rows(smtp_app, lambda r: r and r[0].attempts >= 2)
    assert pending[0].status == "pending"
    assert "Connection" in pending[0].last_error or "refused" in pending[0].last_error.lower()
    smtp.start()
    [received] = await smtp.wait_for("late@example.org")
    assert received.header("Subject") == "Hello"
    [row] = await wait_rows(smtp_app, lambda r: r[0].status == "sent")
    assert row.last_error is None


async def test_temporary_refusals_are_retried(smtp_app: TestApp, smtp: SmtpSink) -> None:
    smtp.refuse_with = "451 4.3.0 try again later"
    await send(smtp_app, to="busy@example.org")
    await wait_rows(smtp_app, lambda r: r and r[0].attempts >= 3)
    smtp.refuse_with = None
    await smtp.wait_for("busy@example.org")
    [row] = await wait_rows(smtp_app, lambda r: r[0].status == "sent")
    assert row.permanent_failures == 0


async def test_a_message_the_server_keeps_refusing_is_failed_and_logged(
    smtp_app: TestApp, smtp: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    smtp.refuse_with = "550 5.1.1 mailbox unavailable"
    with caplog.at_level(logging.WARNING, logger="byway.plugins.notifications"):
        await send(smtp_app, to="nobody@example.org")
        [row] = await wait_rows(smtp_app, lambda r: r and r[0].status == "failed")
    assert row.permanent_failures == 3 and row.attempts == 3
    assert "550" in row.last_error
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and row.id in errors[0].getMessage() and "failed for good" in errors[0].getMessage()
    await asyncio.sleep(0.2)
    assert (await rows(smtp_app))[0].attempts == 3  # no more attempts once failed


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"to": "a@example.org, b@example.org"}, "to"),
        ({"to": "Ada <ada@example.org>"}, "to"),
        ({"to": "not-an-address"}, "to"),
        ({"subject": "Hi\r\nBcc: victim@example.org"}, "subject"),
        ({"subject": " "}, "subject"),
        ({"subject": "x" * 301}, "subject"),
        ({"text": "  "}, "text"),
        ({"text": "x" * 100_001}, "text"),
        ({"key": ""}, "key"),
        ({"key": "k" * 201}, "key"),
    ],
)
async def test_bad_input_is_refused_and_nothing_stored(dev_app: TestApp, values: dict[str, Any], field: str) -> None:
    body = await send(dev_app, **values)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == field
    assert body["data"] is None
    assert await rows(dev_app) == []


async def test_starttls_and_auth_from_the_url(byway_settings: Any, tmp_path: Any) -> None:
    import byway_notifications.plugin as notifications_plugin

    from byway.testing import running_app

    from .conftest import notifications_settings

    with SmtpSink(tls_dir=tmp_path, credentials=("mailer@x", "p@ss:word")) as sink:
        url = f"smtp://mailer%40x:p%40ss%3Aword@127.0.0.1:{sink.port}?starttls=1"
        settings = notifications_settings(byway_settings, smtp_url=url, smtp_ca_file=str(sink.ca_file))
        async with running_app([notifications_plugin], settings) as app:
            await send(app, to="secure@example.org")
            [received] = await sink.wait_for("secure@example.org")
            assert received.tls and received.login == "mailer@x"
            # A wrong password is the configuration's fault, not the message's: kept and retried.
            wrong = settings.with_overrides(
                plugins={
                    "notifications": {**settings.plugins["notifications"], "smtp_url": url.replace("p%40ss", "nope")}
                }
            )
        async with running_app([notifications_plugin], wrong) as app:
            await send(app, to="later@example.org", key="k")
            found = await wait_rows(
                app, lambda r: any(x.to_address == "later@example.org" and x.attempts >= 2 for x in r)
            )
            [row] = [x for x in found if x.to_address == "later@example.org"]
            assert row.status == "pending" and "authentication" in row.last_error.lower()
            assert sink.to("later@example.org") == []
