"""A real SMTP server for tests (aiosmtpd, a dev dependency): ``with SmtpSink() as smtp: ...``.

It listens on 127.0.0.1 in a thread of the test process and keeps what it received, parsed.
``smtp.refuse_with = "451 4.3.0 try later"`` makes it refuse messages until reset, and
:meth:`SmtpSink.stop` / :meth:`SmtpSink.start` take it down and bring it back on the same port.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    def header(self, name: str) -> str:
        """A header's value ('' when absent)."""
        return str(self.message.get(name, ""))

    def part(self, subtype: str) -> str:
        """The text of the ``text/<subtype>`` part ('' when absent)."""
        body = self.message.get_body(preferencelist=(subtype,))
        return "" if body is None else str(body.get_content())


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.sink.refuse_with:
            return self.sink.refuse_with
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.sink.lock:
            self.sink.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 that records the messages it accepts."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or _free_port()
        self.received: list[Received] = []
        self.refuse_with: str | None = None
        self.lock = threading.Lock()
        self._controller: Any = None

    @property
    def url(self) -> str:
        """The ``smtp_url`` setting that points at this server."""
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Listen (again) on :attr:`port`."""
        from aiosmtpd.controller import Controller

        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until :meth:`start`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[Received]:
        """The messages received for ``address``."""
        with self.lock:
            return [r for r in self.received if address in r.rcpt_tos]

    async def wait_for(self, address: str, count: int = 1, within: float = 10.0) -> list[Received]:
        """Wait until ``count`` messages for ``address`` arrived; returns them (AssertionError on timeout)."""
        import asyncio

        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"{count} message(s) to {address} expected, got {len(self.to(address))}")

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
