"""The dev transport: messages kept and shown by the mailbox page and ``byway mail``; production refuses it."""

from __future__ import annotations

import json
from pathlib import Path

import byway_notifications.plugin as notifications_plugin
import pytest
from byway_notifications.config import check_startup
from click.testing import CliRunner

import byway
from byway.cli import build_cli
from byway.host import Host
from byway.settings import Settings
from byway.testing import TestApp, make_settings

from .test_delivery import send, wait_rows


async def test_dev_transport_keeps_messages_and_the_mailbox_shows_them(dev_app: TestApp) -> None:
    await send(dev_app, to="Ada@Example.org", subject="Verify <your> email", text="Open https://x.test/v?token=a&b=1")
    await send(dev_app, to="bob@example.org", subject="Second", text="Hi Bob")
    found = await wait_rows(dev_app, lambda r: len(r) == 2 and all(x.status == "sent" for x in r))
    assert {r.transport for r in found} == {"dev"}

    page = await dev_app.client.get("/api/notifications/mailbox")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert html.index("Second") < html.index("Verify &lt;your&gt; email")  # newest first, escaped
    assert '<a href="https://x.test/v?token=a&amp;b=1">' in html

    only_ada = await dev_app.client.get("/api/notifications/mailbox", params={"to": "ADA@example.org"})
    assert "Verify &lt;your&gt; email" in only_ada.text and "Second" not in only_ada.text


async def test_the_mailbox_page_is_not_served_with_real_mail(smtp_app: TestApp) -> None:
    response = await smtp_app.client.get("/api/notifications/mailbox")
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_byway_mail_lists_newest_first_and_filters(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    host = Host(settings, [notifications_plugin], load_entrypoints=False)
    import asyncio

    async def seed() -> None:
        from byway_notifications import store

        await host.open()
        try:
            async with host.plugins["notifications"].sessions() as session:
                for i, to in enumerate(["Ada@Example.org", "bob@example.org", "ada@example.org"]):
                    message = store.NewMessage("authentication", f"k{i}", to, f"Subject {i}", f"Body {i}", None)
                    await store.add_message(session, message)
                    await session.commit()
        finally:
            await host.close()

    asyncio.run(seed())
    runner = CliRunner()
    text = runner.invoke(build_cli(host), ["mail"], catch_exceptions=False)
    assert text.exit_code == 0
    assert text.output.index("Subject 2") < text.output.index("Subject 1") < text.output.index("Subject 0")
    assert "[pending]  to bob@example.org" in text.output and "Body 1" in text.output

    as_json = runner.invoke(
        build_cli(host), ["mail", "--to", "\uff21\uff24\uff21@example.org", "--json"], catch_exceptions=False
    )
    listed = json.loads(as_json.output)
    assert [m["subject"] for m in listed] == ["Subject 2", "Subject 0"]
    assert set(listed[0]) >= {"to", "subject", "text", "status", "createdAt"}

    nothing = runner.invoke(build_cli(host), ["mail", "--to", "carol@example.org"], catch_exceptions=False)
    assert nothing.output.strip() == "no messages"


def _runtime(settings: Settings, **config: object) -> byway.PluginRuntime:
    settings = settings.with_overrides(plugins={"notifications": config})
    return Host(settings, [notifications_plugin], load_entrypoints=False).plugins["notifications"]


def test_production_refuses_the_dev_transport_unless_told(tmp_path: Path) -> None:
    production = make_settings(tmp_path, env="production")
    with pytest.raises(RuntimeError, match="BYWAY_NOTIFICATIONS_SMTP_URL"):
        check_startup(_runtime(production))
    allowed = check_startup(_runtime(production, allow_dev_transport_in_production="1"))
    assert allowed.transport_name == "dev"
    smtp = check_startup(_runtime(production, smtp_url="smtp://u:p%40ss@mail.example.org?starttls=1"))
    assert smtp.transport_name == "smtp"
    assert check_startup(_runtime(make_settings(tmp_path))).transport_name == "dev"
    with pytest.raises(ValueError, match="smtp://"):
        check_startup(_runtime(make_settings(tmp_path), smtp_url="http://mail.example.org"))


async def test_production_start_up_fails_with_the_dev_transport(tmp_path: Path) -> None:
    from byway.plugins import PluginError

    settings = make_settings(tmp_path / "data", env="production", auto_migrate=True)
    (tmp_path / "data").mkdir()
    host = Host(settings, [notifications_plugin], load_entrypoints=False)
    with pytest.raises(PluginError, match="dev email transport"):
        await host.start()


def test_smtp_url_parsing() -> None:
    from byway_notifications.transports import SmtpTarget

    target = SmtpTarget.from_url("smtp://user%40x:p%3Ass@mail.example.org:2525?starttls=1")
    assert (target.host, target.port, target.starttls, target.implicit_tls) == ("mail.example.org", 2525, True, False)
    assert (target.username, target.password) == ("user@x", "p:ss")
    assert SmtpTarget.from_url("smtp://mail.example.org?starttls=1").port == 587
    assert SmtpTarget.from_url("smtps://mail.example.org").port == 465
    assert SmtpTarget.from_url("smtp://mail.example.org").port == 25
    with pytest.raises(ValueError):
        SmtpTarget.from_url("smtps://mail.example.org?starttls=1")


MESSAGES = "query Messages($first: Int) { messages(first: $first) { to subject } }"


async def test_messages_takes_an_explicit_null_first_as_the_default_and_refuses_out_of_range(
    dev_app: TestApp,
) -> None:
    """Found by fuzzing: ``first: null`` gave INTERNAL; it means the default page, and 0 or 201 are refused."""
    await send(dev_app, to="ada@example.org", subject="One")
    await wait_rows(dev_app, lambda r: len(r) == 1)
    admin = dev_app.token("u-admin", ("student", "admin"))
    body = await dev_app.gql("notifications", MESSAGES, {"first": None}, token=admin)
    assert "errors" not in body, body
    assert [m["subject"] for m in body["data"]["messages"]] == ["One"]
    for first in (0, 201):
        body = await dev_app.gql("notifications", MESSAGES, {"first": first}, token=admin)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
        assert body["errors"][0]["extensions"]["field"] == "first"
