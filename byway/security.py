"""Host defences at the HTTP boundary: unsafe text, security headers, CORS, and media types.

* :func:`unsafe_text_path` finds a NUL character or a lone surrogate anywhere in decoded JSON:
  neither can be stored (PostgreSQL refuses NUL in text; a lone surrogate cannot even be encoded
  to UTF-8 for the response), so both are refused where the JSON is read, with 400 / BAD_USER_INPUT.
* :class:`SecurityHeadersMiddleware` adds the security headers to every HTTP response and answers
  CORS for the origins configured in ``Settings.cors_origins`` (none by default).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("byway.security")

_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def unsafe_text(value: str) -> bool:
    """True when ``value`` holds a NUL character or a lone (unpaired) surrogate."""
    if value.isascii():
        return "\x00" in value
    return _UNSAFE.search(value) is not None


def unsafe_text_path(value: Any, root: str = "") -> str | None:
    """The path (``variables.items[0].title``) of the first unsafe string in decoded JSON, else None.

    Keys are checked as well as values. Iterative, so the nesting depth costs no recursion. The
    usual answer (nothing unsafe) costs one search over all the strings at once; paths are built
    only to name a string that was found.
    """
    if not _holds_unsafe_text(value):
        return None
    stack: list[tuple[str, Any]] = [(root, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if unsafe_text(item):
                return path or "body"
        elif isinstance(item, dict):
            for key, sub in item.items():
                if isinstance(key, str) and unsafe_text(key):
                    return f"{path}.<key>" if path else "<key>"
                stack.append((f"{path}.{key}" if path else str(key), sub))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", sub) for i, sub in enumerate(item))
    return None


def _holds_unsafe_text(value: Any) -> bool:
    """Whether any string (key or value) of decoded JSON is unsafe: one search over all of them."""
    texts: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, dict):
            texts.extend(key for key in item if isinstance(key, str))
            stack.extend(item.values())
        elif isinstance(item, list):
            for sub in item:  # a list of ids or names, the usual case, in one pass
                if type(sub) is str:
                    texts.append(sub)
                else:
                    stack.append(sub)
    # Joined by a character that is neither NUL nor a surrogate, so no match spans two strings.
    joined = "\x01".join(texts)
    if joined.isascii():  # known without a scan (CPython keeps it): no surrogate, only NUL to find
        return "\x00" in joined
    return _UNSAFE.search(joined) is not None


#: Content-Security-Policy of every response. The playground (GraphiQL, vendored under
#: ``/_byway/static``) needs inline styles and its own inline start-up script; the dev checkout
#: page has inline styles. Nothing is loaded from anywhere else. ``form-action`` is left open: the
#: checkout form's answer redirects to the shop's own ``successUrl``.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; "
    "script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "font-src 'self' data:; "
    "connect-src 'self'; "
    "frame-ancestors 'none'; "
    "base-uri 'none'; "
    "object-src 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeadersMiddleware:
    """Pure ASGI middleware: security headers on every response, and CORS for configured origins.

    Args:
        app: the wrapped application.
        hsts: send ``Strict-Transport-Security`` (production).
        cors_origins: origins allowed to call the API from a browser (``*`` for any); empty: no CORS.
    """

    def __init__(self, app: ASGIApp, *, hsts: bool = False, cors_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.hsts = hsts
        self.cors_origins = frozenset(cors_origins)

    def _allowed_origin(self, origin: str | None) -> str | None:
        if not origin or not self.cors_origins:
            return None
        if "*" in self.cors_origins:
            return "*"
        return origin if origin in self.cors_origins else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        origin = self._allowed_origin(headers.get("origin"))
        if (
            scope["method"] == "OPTIONS"
            and "access-control-request-method" in headers
            and self.cors_origins
        ):
            await self._preflight(origin, headers, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                present = {k.lower() for k, _ in raw}
                for name, value in self._headers(origin):
                    if name.encode() not in present:
                        raw.append((name.encode(), value.encode()))
                message["headers"] = raw
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _headers(self, origin: str | None) -> list[tuple[str, str]]:
        headers = [
            ("content-security-policy", CONTENT_SECURITY_POLICY),
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "no-referrer"),
            ("cross-origin-opener-policy", "same-origin"),
        ]
        if self.hsts:
            headers.append(("strict-transport-security", HSTS))
        if origin is not None:
            headers.append(("access-control-allow-origin", origin))
            if origin != "*":
                headers.append(("vary", "Origin"))
        return headers

    async def _preflight(self, origin: str | None, headers: dict[str, str], send: Send) -> None:
        if origin is None:
            status, extra = 403, []
        else:
            status = 204
            extra = [
                ("access-control-allow-methods", "GET, POST, OPTIONS"),
                ("access-control-allow-headers", "Authorization, Content-Type, Accept"),
                ("access-control-max-age", "600"),
            ]
        out = [(k.encode(), v.encode()) for k, v in [*self._headers(origin), *extra]]
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": b""})


# --- files and listening addresses ------------------------------------------------------------------


def secure_file(path: str | Path, *, make_dirs: bool = True) -> tuple[int, int] | None:
    """Make a database file owner-only (0600), creating it empty first (as SQLite would, but
    without the umask's group and world bits); its directory too when ``make_dirs``.

    Returns the file's ``(device, inode)`` (None when its directory does not exist).
    SQLite creates its ``-wal`` and ``-shm`` files with the main file's permissions.
    """
    path = Path(path)
    if make_dirs:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists() and path.parent.is_dir():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    if stat.st_mode & 0o077 and stat.st_uid == os.getuid():
        os.chmod(path, 0o600)
    return stat.st_dev, stat.st_ino


def secure_data_dir(data_dir: Path, *, create: bool) -> None:
    """The data directory is owner-only (0700): created so, or tightened when it is ours."""
    if create:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        stat = data_dir.stat()
    except FileNotFoundError:
        return
    if stat.st_mode & 0o077 and stat.st_uid == os.getuid():
        os.chmod(data_dir, 0o700)
        log.info("data directory %s made owner-only (0700)", data_dir)


def is_loopback(bind: str) -> bool:
    """True for an address only this machine can reach (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    if bind == "localhost":
        return True
    try:
        return ipaddress.ip_address(bind.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warning(env: str, bind: str) -> str | None:
    """The warning to print when dev mode listens where other machines can reach it, else None."""
    if env == "production" or is_loopback(bind):
        return None
    return (
        f"WARNING: Byway is in DEV mode and listens on {bind}, reachable from other machines. Dev mode uses a "
        "public JWT secret (anyone can sign an admin token), the dev payment provider (anyone can 'pay'), "
        "introspection and the playground. Listen on 127.0.0.1, or set BYWAY_ENV=production with real secrets."
    )
