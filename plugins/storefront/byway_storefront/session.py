"""The visitor's session: their access and refresh tokens in an HttpOnly cookie, and CSRF tokens.

* The session cookie (``byway_session``; ``__Host-byway_session`` in production, where it is also
  ``Secure``) is HttpOnly and SameSite=Lax. It holds the access token and the refresh token that
  ``authentication`` issued; scripts in the page can read neither.
* An access token that has expired (or expires within ``refresh_margin_seconds``) is replaced
  transparently with ``refreshToken`` before the page makes its calls. Refresh tokens are single
  use and a reused one revokes its whole family, so two requests that arrive together with the
  same refresh token share one refresh (single flight, remembered for a minute).
* CSRF: a random seed in its own HttpOnly cookie; every form carries ``HMAC(key, seed)`` and a
  POST whose token does not match is refused before anything is called.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from byway import CrossPluginError, PluginRuntime, Principal, Unauthenticated, UpstreamUnavailable
from byway_storefront.config import config_of, secure_cookies
from byway_storefront.operations import REFRESH

#: Lifetime of the cookies; the refresh token's own expiry is enforced by authentication.
COOKIE_MAX_AGE = 30 * 24 * 3600
#: The visitor nobody has signed in as.
ANONYMOUS_PRINCIPAL = Principal()
#: How long a completed refresh is remembered for requests that present the same refresh token.
REFRESH_REMEMBER_SECONDS = 60.0


def cookie_names(plugin: PluginRuntime) -> tuple[str, str]:
    """The session and CSRF cookie names (``__Host-`` prefixed when cookies are Secure)."""
    prefix = "__Host-" if secure_cookies(plugin) else ""
    return f"{prefix}byway_session", f"{prefix}byway_csrf"


def _encode(access: str, refresh: str) -> str:
    raw = json.dumps({"a": access, "r": refresh}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(value: str | None) -> tuple[str, str] | None:
    if not value or len(value) > 8192:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        data = json.loads(raw)
    except (ValueError, binascii.Error):
        return None
    if not isinstance(data, dict):
        return None
    access, refresh = data.get("a"), data.get("r")
    if not isinstance(access, str) or not isinstance(refresh, str):
        return None
    return access, refresh


def token_expiry(token: str) -> float:
    """The ``exp`` claim of a JWT that has already been verified (0 when it cannot be read)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, KeyError, TypeError, ValueError, binascii.Error):
        return 0.0


@dataclass
class AuthTokens:
    """An ``AuthPayload`` as the storefront keeps it."""

    access: str
    refresh: str
    user: dict[str, Any]

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> AuthTokens:
        """From the selection ``token refreshToken expiresAt user { ... }``."""
        return cls(str(payload["token"]), str(payload["refreshToken"]), dict(payload.get("user") or {}))


class RefreshFlights:
    """Single-flight refreshes: one ``refreshToken`` call per refresh token, shared by concurrent requests."""

    def __init__(self) -> None:
        self._flights: OrderedDict[str, tuple[float, asyncio.Future[AuthTokens | None]]] = OrderedDict()

    async def refresh(self, plugin: PluginRuntime, refresh_token: str) -> AuthTokens | None:
        """New tokens for ``refresh_token``; None when authentication refuses it (expired, revoked, reused).

        Raises:
            UpstreamUnavailable: authentication could not be reached (the session is kept).
        """
        key = hashlib.sha256(refresh_token.encode()).hexdigest()
        now = time.monotonic()
        while self._flights and now - next(iter(self._flights.values()))[0] > REFRESH_REMEMBER_SECONDS:
            self._flights.popitem(last=False)
        flight = self._flights.get(key)
        if flight is not None:
            return await asyncio.shield(flight[1])
        future: asyncio.Future[AuthTokens | None] = asyncio.get_running_loop().create_future()
        self._flights[key] = (now, future)
        try:
            data = await plugin.client.call(
                "authentication", REFRESH, {"refreshToken": refresh_token}, as_=ANONYMOUS_PRINCIPAL
            )
            result: AuthTokens | None = AuthTokens.from_payload(data["refreshToken"])
        except CrossPluginError as exc:
            if exc.code == "UPSTREAM_UNAVAILABLE":
                self._flights.pop(key, None)
                future.set_exception(UpstreamUnavailable("Could not renew your session", plugin="authentication"))
                future.exception()  # retrieved: waiters re-raise it
                raise UpstreamUnavailable("Could not renew your session", plugin="authentication") from exc
            result = None
        except BaseException as exc:
            self._flights.pop(key, None)
            future.set_exception(exc)
            future.exception()
            raise
        future.set_result(result)
        return result


def flights_of(plugin: PluginRuntime) -> RefreshFlights:
    """The runtime's single-flight refresher."""
    return plugin.slot(_new_flights)


def _new_flights(plugin: PluginRuntime) -> RefreshFlights:
    return RefreshFlights()


def csrf_key(plugin: PluginRuntime) -> bytes:
    """The key that signs CSRF tokens, derived from the host's JWT secret."""
    return hmac.new(plugin.settings.jwt_secret.encode(), b"byway-storefront-csrf", hashlib.sha256).digest()


@dataclass
class Session:
    """One request's view of the visitor: who they are, and what the response must tell the browser."""

    plugin: PluginRuntime
    principal: Principal = ANONYMOUS_PRINCIPAL
    access: str | None = None
    refresh: str | None = None
    csrf_seed: str = ""
    #: The session cookie must be rewritten (tokens changed) or removed (``access is None``).
    dirty: bool = False
    csrf_dirty: bool = False
    user: dict[str, Any] = field(default_factory=dict)

    @property
    def signed_in(self) -> bool:
        """True for a visitor with a valid access token."""
        return self.principal.is_user

    @property
    def csrf_token(self) -> str:
        """The token every form of this visitor carries."""
        return hmac.new(csrf_key(self.plugin), self.csrf_seed.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, token: str | None) -> bool:
        """Whether a submitted form's token belongs to this visitor's CSRF cookie."""
        return bool(token) and not self.csrf_dirty and hmac.compare_digest(self.csrf_token, str(token))

    def sign_in(self, tokens: AuthTokens) -> None:
        """Keep new tokens (after login, register, reset or refresh) and act as that user from now on."""
        self.principal = self.plugin.authenticate(tokens.access)
        self.access, self.refresh, self.user = tokens.access, tokens.refresh, tokens.user
        self.dirty = True
        # A new CSRF seed at each sign-in, so a token seen before signing in is worthless after it.
        self.csrf_seed, self.csrf_dirty = secrets.token_urlsafe(32), True

    def sign_out(self) -> None:
        """Forget the tokens (the cookie is removed)."""
        had = self.access is not None or self.refresh is not None
        self.principal, self.access, self.refresh, self.user = ANONYMOUS_PRINCIPAL, None, None, {}
        self.dirty = self.dirty or had

    def write(self, response: Response) -> None:
        """Set or delete the cookies this request changed."""
        session_name, csrf_name = cookie_names(self.plugin)
        secure = secure_cookies(self.plugin)
        if self.dirty:
            if self.access and self.refresh:
                response.set_cookie(
                    session_name,
                    _encode(self.access, self.refresh),
                    max_age=COOKIE_MAX_AGE,
                    path="/",
                    secure=secure,
                    httponly=True,
                    samesite="lax",
                )
            else:
                response.delete_cookie(session_name, path="/", secure=secure, httponly=True, samesite="lax")
        if self.csrf_dirty:
            response.set_cookie(
                csrf_name,
                self.csrf_seed,
                max_age=COOKIE_MAX_AGE,
                path="/",
                secure=secure,
                httponly=True,
                samesite="lax",
            )


async def load_session(plugin: PluginRuntime, request: Request) -> Session:
    """The visitor's session, with an expired access token renewed (one ``refreshToken`` call at most)."""
    session_name, csrf_name = cookie_names(plugin)
    session = Session(plugin)
    seed = request.cookies.get(csrf_name, "")
    if 20 <= len(seed) <= 100 and seed.isascii():
        session.csrf_seed = seed
    else:
        session.csrf_seed, session.csrf_dirty = secrets.token_urlsafe(32), True
    raw = request.cookies.get(session_name)
    tokens = _decode(raw)
    if tokens is None:
        session.dirty = raw is not None  # a cookie we cannot read is removed
        return session
    access, refresh = tokens
    session.access, session.refresh = access, refresh
    try:
        principal: Principal | None = plugin.authenticate(access)
    except Unauthenticated:
        principal = None
    margin = config_of(plugin).refresh_margin_seconds
    if principal is not None and principal.is_user and token_expiry(access) - time.time() > margin:
        session.principal = principal
        return session
    try:
        renewed = await flights_of(plugin).refresh(plugin, refresh)
    except UpstreamUnavailable:
        # authentication is down: keep the cookie, use the access token while it still works.
        if principal is not None and principal.is_user:
            session.principal = principal
        return session
    if renewed is None:
        session.sign_out()
        return session
    session.principal = plugin.authenticate(renewed.access)
    session.access, session.refresh, session.user, session.dirty = renewed.access, renewed.refresh, renewed.user, True
    return session
