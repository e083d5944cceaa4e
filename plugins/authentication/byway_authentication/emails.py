"""The emails ``authentication`` sends (plain text plus simple HTML) and the links in them.

Links start at the host's public base URL (``BYWAY_PUBLIC_BASE_URL``, else ``BYWAY_SELF_URL``).
With the storefront plugin present they open its pages (``/verify-email?token=...`` and
``/reset-password?token=...``); without it, the minimal pages this plugin serves itself
(``/api/authentication/verify-email`` and ``/api/authentication/reset-password``).
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

from byway.runtime import PluginRuntime
from byway_authentication.store.users import UserRecord

PAGES = {"verify": "verify-email", "reset": "reset-password"}


@dataclass(frozen=True)
class Email:
    """A rendered email, as sent to ``notifications.sendEmail``."""

    to: str
    subject: str
    text: str
    html: str

    def as_variables(self) -> dict[str, Any]:
        """The email as operation variables."""
        return asdict(self)


def link(plugin: PluginRuntime, kind: str, token: str) -> str:
    """The link of an email of ``kind`` ("verify" or "reset") carrying ``token``."""
    base = plugin.settings.public_url
    page = PAGES[kind]
    query = urlencode({"token": token})
    if plugin.knows("storefront"):
        return f"{base}/{page}?{query}"
    return f"{base}/api/{plugin.name}/{page}?{query}"


def _html(greeting: str, lines: list[str], url: str, button: str, footer: str) -> str:
    e = html.escape
    paragraphs = "".join(f"<p>{e(line)}</p>" for line in lines)
    return (
        '<!doctype html><html><body style="font-family:sans-serif;max-width:36rem">'
        f"<p>{e(greeting)}</p>{paragraphs}"
        f'<p><a href="{e(url)}" style="display:inline-block;padding:.6rem 1rem;background:#2b59c3;'
        f'color:#fff;text-decoration:none;border-radius:4px">{e(button)}</a></p>'
        f'<p style="color:#666;font-size:.9rem">{e(footer)}<br>{e(url)}</p></body></html>'
    )


def verification_email(user: UserRecord, url: str, hours: int) -> Email:
    """ "Confirm your email address"."""
    greeting = f"Hello {user.shown_name},"
    lines = [f"Please confirm that {user.email} is your email address. The link works for {hours} hours."]
    footer = "If you did not create a Byway account, ignore this email. The link again:"
    text = f"{greeting}\n\n{lines[0]}\n\nConfirm your email: {url}\n\n{footer.split('.')[0]}.\n"
    return Email(
        user.email, "Confirm your email address", text, _html(greeting, lines, url, "Confirm my email", footer)
    )


def reset_email(user: UserRecord, url: str, minutes: int) -> Email:
    """ "Reset your password"."""
    greeting = f"Hello {user.shown_name},"
    lines = [
        "Someone (hopefully you) asked to reset the password of your Byway account.",
        f"The link works once, for {minutes} minutes. Resetting logs you out everywhere.",
    ]
    footer = "If you did not ask for this, ignore this email: your password stays as it is. The link again:"
    text = (
        f"{greeting}\n\n{lines[0]}\n{lines[1]}\n\nChoose a new password: {url}\n\n"
        "If you did not ask for this, ignore this email: your password stays as it is.\n"
    )
    return Email(user.email, "Reset your password", text, _html(greeting, lines, url, "Choose a new password", footer))
