"""How a stored message leaves: ``dev`` (kept in the database, shown in the mailbox) or ``smtp``.

The SMTP transport runs the standard library's ``smtplib`` in a worker thread, one connection per
delivery round, with STARTTLS (``?starttls=1``) or implicit TLS (``smtps://``) and AUTH when the URL
carries a user.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from byway_notifications.config import NotificationsConfig


@dataclass(frozen=True)
class Outgoing:
    """One message to deliver."""

    id: str
    to: str
    subject: str
    text: str
    html: str | None
    created_at: datetime


class DeliveryError(Exception):
    """A message could not be delivered; ``permanent`` when retrying the same message cannot help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    """Delivers messages; returns per message id the :class:`DeliveryError` of those that failed."""

    name: str

    async def deliver(self, batch: Sequence[Outgoing]) -> dict[str, DeliveryError]:
        """Deliver ``batch``; the failures by message id (empty when all went out)."""
        ...


class DevTransport:
    """Nothing leaves the machine: the stored message is the delivery (``byway mail``, the mailbox page)."""

    name = "dev"

    async def deliver(self, batch: Sequence[Outgoing]) -> dict[str, DeliveryError]:
        """Accept every message."""
        return {}


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to connect, from ``smtp_url``."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpTarget:
        """Parse ``smtp://[user:pass@]host[:port][?starttls=1]`` or ``smtps://...``."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("BYWAY_NOTIFICATIONS_SMTP_URL must look like smtp://user:pass@host:587?starttls=1")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        implicit = parts.scheme == "smtps"
        starttls = query.get("starttls", "0").lower() in {"1", "true", "yes", "on"}
        if implicit and starttls:
            raise ValueError("smtps:// is TLS from the start: do not add starttls=1")
        port = parts.port or (465 if implicit else 587 if starttls else 25)
        return cls(
            host=parts.hostname,
            port=port,
            implicit_tls=implicit,
            starttls=starttls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def build_email(message: Outgoing, sender: str) -> EmailMessage:
    """The RFC 5322 message: plain text, plus an HTML alternative when there is one.

    The ``Message-ID`` is derived from the stored id, so a retried delivery carries the same one.
    """
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "byway.localhost"
    email["Message-ID"] = f"<{message.id}@{domain}>"
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    return email


def _classify(exc: Exception) -> DeliveryError:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        permanent = bool(codes) and all(code >= 500 for code in codes)
        return DeliveryError(f"recipient refused: {exc.recipients}", permanent=permanent)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        # The server's configuration, not the message: keep it until the settings are fixed.
        return DeliveryError(f"SMTP authentication failed ({exc.smtp_code})", permanent=False)
    if isinstance(exc, smtplib.SMTPResponseException):
        return DeliveryError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=exc.smtp_code >= 500)
    return DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False)


class SmtpTransport:
    """Hands messages to an SMTP server (``smtplib`` in a thread, one connection per batch)."""

    name = "smtp"

    def __init__(self, config: NotificationsConfig) -> None:
        self.target = SmtpTarget.from_url(config.smtp_url)
        self.sender = config.sender
        self.timeout = config.smtp_timeout_seconds
        self.ca_file = config.smtp_ca_file or None

    def _connect(self) -> smtplib.SMTP:
        target = self.target
        context = ssl.create_default_context(cafile=self.ca_file)
        client: smtplib.SMTP
        if target.implicit_tls:
            client = smtplib.SMTP_SSL(target.host, target.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=self.timeout)
        try:
            client.ehlo()
            if target.starttls:
                client.starttls(context=context)
                client.ehlo()
            if target.username is not None:
                client.login(target.username, target.password or "")
        except BaseException:
            client.close()
            raise
        return client

    def _send_all(self, batch: Sequence[Outgoing]) -> dict[str, DeliveryError]:
        try:
            client = self._connect()
        except Exception as exc:
            error = _classify(exc)
            return {message.id: error for message in batch}
        failures: dict[str, DeliveryError] = {}
        try:
            for message in batch:
                try:
                    client.send_message(build_email(message, self.sender))
                except smtplib.SMTPServerDisconnected as exc:
                    # The connection is gone: this and every later message wait for the next round.
                    rest = batch[batch.index(message) :]
                    failures.update({m.id: _classify(exc) for m in rest})
                    break
                except Exception as exc:
                    failures[message.id] = _classify(exc)
        finally:
            try:
                client.quit()
            except Exception:
                client.close()
        return failures

    async def deliver(self, batch: Sequence[Outgoing]) -> dict[str, DeliveryError]:
        """Deliver ``batch`` over one SMTP connection in a worker thread."""
        if not batch:
            return {}
        return await asyncio.to_thread(self._send_all, batch)


def make_transport(config: NotificationsConfig) -> Transport:
    """The configured transport."""
    if config.transport_name == "smtp":
        return SmtpTransport(config)
    return DevTransport()
