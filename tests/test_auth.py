"""JWTs, principals and the permission helpers plugins share."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from jose import jwt

from byway.auth import (
    ANONYMOUS_PRINCIPAL,
    SERVICE,
    USER,
    Principal,
    TokenService,
    bearer_token,
    require_admin,
    require_authenticated,
    require_service,
    require_service_or_admin,
    require_user,
)
from byway.errors import Forbidden, Unauthenticated

SECRET = "auth-test-secret-0123456789abcdef0123456789"


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
def tokens() -> TokenService:
    return TokenService(SECRET)


def test_user_token_round_trip(tokens: TokenService) -> None:
    token = tokens.issue_user_token("u1", ["teacher", "student", "teacher"], email="a@b.c")
    principal = tokens.verify(token)
    assert principal.kind == USER and principal.is_user
    assert principal.user_id == "u1"
    assert principal.roles == frozenset({"student", "teacher"})
    assert principal.has_role("teacher") and not principal.is_admin
    assert principal.token == token
    claims = jwt.get_unverified_claims(token)
    assert claims["sub"] == "u1" and claims["email"] == "a@b.c"
    assert claims["exp"] - claims["iat"] == 900  # short-lived access token (issue 9)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_admin_role(tokens: TokenService) -> None:
    principal = tokens.verify(tokens.issue_user_token("u2", ["student", "admin"]))
    assert principal.is_admin


def test_service_token_names_the_calling_plugin(tokens: TokenService) -> None:
    token = tokens.service_token("ecommerce")
    principal = tokens.verify(token)
    assert principal.kind == SERVICE and principal.is_service
    assert principal.service == "ecommerce" and principal.user_id is None
    assert not principal.is_admin and not principal.has_role("admin")
    claims = jwt.get_unverified_claims(token)
    assert claims["sub"] == "service:ecommerce" and 0 < claims["exp"] - claims["iat"] <= 300
    assert tokens.service_token("ecommerce") == token  # reused while fresh
    assert tokens.verify(tokens.service_token("teach")).service == "teach"


def test_expired_token_is_refused() -> None:
    expired = TokenService(SECRET, user_ttl=-10).issue_user_token("u1", ["student"])
    with pytest.raises(Unauthenticated):
        TokenService(SECRET).verify(expired)


def test_cached_token_is_refused_once_expired(tokens: TokenService, monkeypatch: pytest.MonkeyPatch) -> None:
    token = tokens.issue_user_token("u1", ["student"])
    assert tokens.verify(token).user_id == "u1"
    later = time.time() + 2 * 86400

    class Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return datetime.now(tz) + timedelta(days=2)

    monkeypatch.setattr("jose.jwt.datetime", Later)
    monkeypatch.setattr("byway.auth.time.time", lambda: later)
    with pytest.raises(Unauthenticated):
        tokens.verify(token)


def test_wrong_secret_is_refused(tokens: TokenService) -> None:
    forged = TokenService("another-secret-0123456789abcdef0123456789").issue_user_token("u1", ["admin"])
    with pytest.raises(Unauthenticated):
        tokens.verify(forged)


def test_algorithm_none_is_refused(tokens: TokenService) -> None:
    now = int(time.time())
    unsigned = b64({"alg": "none", "typ": "JWT"}) + "." + b64({"sub": "u1", "roles": ["admin"], "exp": now + 60}) + "."
    with pytest.raises(Unauthenticated):
        tokens.verify(unsigned)


def test_other_algorithms_are_refused_even_with_the_right_secret(tokens: TokenService) -> None:
    now = int(time.time())
    claims = {"sub": "u1", "roles": ["admin"], "iat": now, "exp": now + 60}
    for alg in ("HS384", "HS512"):
        with pytest.raises(Unauthenticated):
            tokens.verify(jwt.encode(claims, SECRET, algorithm=alg))
    assert tokens.verify(jwt.encode(claims, SECRET, algorithm="HS256")).is_admin


def test_missing_exp_or_sub_is_refused(tokens: TokenService) -> None:
    now = int(time.time())
    with pytest.raises(Unauthenticated):
        tokens.verify(jwt.encode({"sub": "u1", "roles": [], "iat": now}, SECRET, algorithm="HS256"))
    with pytest.raises(Unauthenticated):
        tokens.verify(jwt.encode({"roles": [], "exp": now + 60}, SECRET, algorithm="HS256"))


def test_malformed_claims_are_refused(tokens: TokenService) -> None:
    exp = int(time.time()) + 60
    with pytest.raises(Unauthenticated, match="roles"):
        tokens.verify(jwt.encode({"sub": "u1", "roles": "admin", "exp": exp}, SECRET, algorithm="HS256"))
    with pytest.raises(Unauthenticated, match="service"):
        tokens.verify(jwt.encode({"sub": "s", "typ": "service", "exp": exp}, SECRET, algorithm="HS256"))
    with pytest.raises(Unauthenticated):
        tokens.verify("not.a.token")


def test_bearer_header() -> None:
    assert bearer_token(None) is None
    assert bearer_token("") is None
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    for bad in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "abc"):
        with pytest.raises(Unauthenticated):
            bearer_token(bad)


USER_P = Principal(kind=USER, user_id="u1", roles=frozenset({"student"}))
ADMIN_P = Principal(kind=USER, user_id="a1", roles=frozenset({"student", "admin"}))
SERVICE_P = Principal(kind=SERVICE, service="ecommerce")


@pytest.mark.parametrize(
    ("check", "principal", "outcome"),
    [
        (require_user, ANONYMOUS_PRINCIPAL, Unauthenticated),
        (require_user, USER_P, None),
        (require_user, SERVICE_P, Forbidden),
        (require_admin, ANONYMOUS_PRINCIPAL, Unauthenticated),
        (require_admin, USER_P, Forbidden),
        (require_admin, ADMIN_P, None),
        (require_admin, SERVICE_P, Forbidden),
        (require_service, ANONYMOUS_PRINCIPAL, Unauthenticated),
        (require_service, USER_P, Forbidden),
        (require_service, ADMIN_P, Forbidden),
        (require_service, SERVICE_P, None),
        (require_service_or_admin, ANONYMOUS_PRINCIPAL, Unauthenticated),
        (require_service_or_admin, USER_P, Forbidden),
        (require_service_or_admin, ADMIN_P, None),
        (require_service_or_admin, SERVICE_P, None),
        (require_authenticated, ANONYMOUS_PRINCIPAL, Unauthenticated),
        (require_authenticated, USER_P, None),
        (require_authenticated, SERVICE_P, None),
    ],
)
def test_permission_helpers(check: object, principal: Principal, outcome: type[Exception] | None) -> None:
    assert callable(check)
    if outcome is None:
        assert check(principal) is principal
    else:
        with pytest.raises(outcome):
            check(principal)


def test_require_service_can_name_the_allowed_services() -> None:
    assert require_service(SERVICE_P, "ecommerce", "teach") is SERVICE_P
    with pytest.raises(Forbidden):
        require_service(SERVICE_P, "teach")


def test_anonymous_principal() -> None:
    assert ANONYMOUS_PRINCIPAL.is_anonymous
    assert not (ANONYMOUS_PRINCIPAL.is_user or ANONYMOUS_PRINCIPAL.is_service or ANONYMOUS_PRINCIPAL.is_admin)
