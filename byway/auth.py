"""JWTs (python-jose), the caller principal, and the permission checks plugins share.

A *user* token has ``sub`` (user id), ``roles``, ``iat`` and ``exp``. A *service* token is a
short-lived token a plugin signs to call another plugin as itself: ``typ`` is ``service`` and
``svc`` names the calling plugin. Algorithms are pinned and ``exp`` is required.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jose import jwt
from jose.exceptions import JOSEError

from byway.errors import Forbidden, Unauthenticated

ANONYMOUS = "anonymous"
USER = "user"
SERVICE = "service"

ROLE_STUDENT = "student"
ROLE_TEACHER = "teacher"
ROLE_ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling: an anonymous client, a user with roles, or a plugin acting as a service."""

    kind: str = ANONYMOUS
    user_id: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    service: str | None = None
    #: The bearer token the caller presented, forwarded on calls made on its behalf.
    token: str | None = field(default=None, repr=False, compare=False)

    @property
    def is_anonymous(self) -> bool:
        """True for a caller without a token."""
        return self.kind == ANONYMOUS

    @property
    def is_user(self) -> bool:
        """True for an end user (any role)."""
        return self.kind == USER

    @property
    def is_service(self) -> bool:
        """True for a plugin calling as itself."""
        return self.kind == SERVICE

    @property
    def is_admin(self) -> bool:
        """True for a user holding the ``admin`` role."""
        return self.is_user and ROLE_ADMIN in self.roles

    def has_role(self, role: str) -> bool:
        """True when the user holds ``role``."""
        return self.is_user and role in self.roles


ANONYMOUS_PRINCIPAL = Principal()


@dataclass(frozen=True)
class AccessToken:
    """A signed user token and the moment it expires."""

    token: str
    expires_at: datetime


class TokenService:
    """Issues and verifies user and service tokens with one secret and pinned algorithms."""

    def __init__(
        self,
        secret: str,
        algorithm: str = "HS256",
        *,
        user_ttl: int = 900,
        service_ttl: int = 300,
        cache_size: int = 4096,
    ) -> None:
        self._secret = secret
        self._algorithm = algorithm
        self._user_ttl = user_ttl
        self._service_ttl = service_ttl
        # Verifying a JWT costs tens of microseconds; in-process calls re-present the same token
        # many times, so verified tokens are remembered until they expire.
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._cache_size = cache_size
        self._service_tokens: dict[str, tuple[str, float]] = {}

    @property
    def user_ttl(self) -> int:
        """Seconds a user (access) token stays valid."""
        return self._user_ttl

    def issue_user_token(self, user_id: str, roles: Iterable[str], **claims: Any) -> str:
        """A signed user token for ``user_id`` with ``roles``; extra claims are added as given."""
        return self.issue_access_token(user_id, roles, **claims).token

    def issue_access_token(self, user_id: str, roles: Iterable[str], **claims: Any) -> AccessToken:
        """Like :meth:`issue_user_token`, with the expiry (an access token lives ``user_ttl`` seconds).

        It is verified by signature alone (no database), so it cannot be revoked: keep it short and
        renew it with a refresh token (the ``authentication`` plugin's ``refreshToken``).
        """
        now = int(time.time())
        exp = now + self._user_ttl
        payload = {
            **claims,
            "sub": str(user_id),
            "roles": sorted(set(roles)),
            "iat": now,
            "exp": exp,
            "typ": USER,
        }
        token = str(jwt.encode(payload, self._secret, algorithm=self._algorithm))
        return AccessToken(token, datetime.fromtimestamp(exp, UTC))

    def service_token(self, plugin: str) -> str:
        """A short-lived token naming ``plugin`` as the caller (reused until near expiry)."""
        now = time.time()
        cached = self._service_tokens.get(plugin)
        if cached and cached[1] - now > self._service_ttl / 2:
            return cached[0]
        exp = int(now) + self._service_ttl
        payload = {"sub": f"service:{plugin}", "svc": plugin, "typ": SERVICE, "iat": int(now), "exp": exp}
        token = str(jwt.encode(payload, self._secret, algorithm=self._algorithm))
        self._service_tokens[plugin] = (token, exp)
        return token

    def verify(self, token: str) -> Principal:
        """The principal of a token; :class:`Unauthenticated` when it is bad, expired or incomplete."""
        now = time.time()
        cached = self._verified.get(token)
        if cached is not None:
            if cached[1] > now:
                return cached[0]
            del self._verified[token]
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self._algorithm],
                options={"require_exp": True, "require_sub": True, "verify_aud": False},
            )
        except JOSEError as exc:
            raise Unauthenticated("Invalid or expired token") from exc
        principal = self._principal_from(claims, token)
        self._verified[token] = (principal, float(claims["exp"]))
        if len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)
        return principal

    @staticmethod
    def _principal_from(claims: dict[str, Any], token: str) -> Principal:
        if claims.get("typ") == SERVICE:
            service = claims.get("svc")
            if not isinstance(service, str) or not service:
                raise Unauthenticated("Invalid service token")
            return Principal(kind=SERVICE, service=service, token=token)
        roles = claims.get("roles") or []
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Unauthenticated("Invalid token roles")
        return Principal(kind=USER, user_id=str(claims["sub"]), roles=frozenset(roles), token=token)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None when there is none.

    A header in another scheme is refused rather than silently ignored.
    """
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization header must be 'Bearer <token>'")
    return token.strip()


# Permission helpers: each returns the principal so a resolver can write
# ``user = require_user(ctx.principal)``.


def require_user(principal: Principal) -> Principal:
    """An end user is required (any role)."""
    if principal.is_user:
        return principal
    if principal.is_anonymous:
        raise Unauthenticated("You must be logged in")
    raise Forbidden("This operation is for users, not services")


def require_admin(principal: Principal) -> Principal:
    """An admin user is required."""
    require_user(principal)
    if not principal.is_admin:
        raise Forbidden("Admin role required")
    return principal


def require_service(principal: Principal, *services: str) -> Principal:
    """A service caller is required (optionally one of ``services``)."""
    if principal.is_anonymous:
        raise Unauthenticated("Service token required")
    if not principal.is_service or (services and principal.service not in services):
        raise Forbidden("Only a service may do this")
    return principal


def require_service_or_admin(principal: Principal) -> Principal:
    """A service or an admin user is required."""
    if principal.is_service or principal.is_admin:
        return principal
    if principal.is_anonymous:
        raise Unauthenticated("You must be logged in")
    raise Forbidden("Only a service or an admin may do this")


def require_authenticated(principal: Principal) -> Principal:
    """Any known caller (user or service) is required."""
    if principal.is_anonymous:
        raise Unauthenticated("You must be logged in")
    return principal
