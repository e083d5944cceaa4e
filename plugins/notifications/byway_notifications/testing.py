"""A real SMTP server for tests (aiosmtpd, a dev dependency): ``with SmtpSink() as smtp: ...``.

It listens on 127.0.0.1 in a thread of the test process and keeps what it received, parsed.
``smtp.refuse_with = "451 4.3.0 try later"`` makes it refuse messages until reset, and
:meth:`SmtpSink.stop` / :meth:`SmtpSink.start` take it down and bring it back on the same port.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    #: Whether the conversation ran over TLS (STARTTLS), and the user it authenticated as.
    tls: bool = False
    login: str | None = None

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
        login = session.auth_data.login.decode() if session.authenticated and session.auth_data else None
        received = Received(envelope.mail_from, tuple(envelope.rcpt_tos), parsed, session.ssl is not None, login)
        with self.sink.lock:
            self.sink.received.append(received)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (PEM files in ``directory``), made with ``cryptography``."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 that records the messages it accepts.

    With ``tls_dir`` it requires STARTTLS (a self-signed certificate written there: point the
    transport's ``smtp_ca_file`` at :attr:`ca_file`); with ``credentials`` it requires AUTH.
    """

    def __init__(
        self, port: int | None = None, *, tls_dir: Path | None = None, credentials: tuple[str, str] | None = None
    ) -> None:
        self.port = port or _free_port()
        self.tls_dir = tls_dir
        self.credentials = credentials
        self.ca_file: Path | None = None
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

        options: dict[str, Any] = {}
        if self.tls_dir is not None:
            cert, key = self_signed_certificate(self.tls_dir)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            self.ca_file = cert
            options.update(tls_context=context, require_starttls=True)
        if self.credentials is not None:
            options.update(auth_required=True, authenticator=self._authenticate)
        from aiosmtpd.smtp import SMTP

        sink = self

        class _Tracked(SMTP):
            def connection_made(self, transport: Any) -> None:
                sink._transports.add(transport)
                super().connection_made(transport)

        class _Controller(Controller):
            def factory(self) -> SMTP:
                return _Tracked(self.handler, **self.SMTP_kwargs)

        self._transports: set[Any] = set()
        self._controller = _Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **options)
        self._controller.start()

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            isinstance(auth_data, LoginPassword)
            and (
                auth_data.login.decode(),
                auth_data.password.decode(),
            )
            == self.credentials
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def stop(self) -> None:
        """Stop listening: connections are refused until :meth:`start`."""
        if self._controller is not None:
            # Close the connections still open (a client mid-conversation) on the server's own loop
            # first, so no transport outlives it (a ResourceWarning in whichever test runs next).
            import asyncio

            async def close_connections() -> None:
                for transport in list(self._transports):
                    transport.abort()
                await asyncio.sleep(0)
                await asyncio.sleep(0)

            loop = self._controller.loop
            asyncio.run_coroutine_threadsafe(close_connections(), loop).result(timeout=5)
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
