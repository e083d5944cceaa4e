"""Host pieces of issue 9: RATE_LIMITED (429 on REST), short access tokens, the client address."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from starlette.requests import Request

from byway.auth import TokenService
from byway.errors import RateLimited, error_class
from byway.runtime import client_address_of
from byway.settings import ConfigurationError, Settings, load_settings
from byway.web import error_response


def test_rate_limited_carries_retry_after_and_is_429_on_rest() -> None:
    exc = RateLimited("Too many failed logins", retry_after_seconds=12.2)
    assert exc.to_extensions() == {"code": "RATE_LIMITED", "retryAfterSeconds": 12}
    assert exc.retry_after_seconds == 12
    assert error_class("RATE_LIMITED") is RateLimited
    assert RateLimited(retry_after_seconds=0).retry_after_seconds == 1  # never "retry in 0 s"
    response = error_response(exc)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "12"
    body = json.loads(bytes(response.body))
    assert body["errors"][0]["extensions"] == {"code": "RATE_LIMITED", "retryAfterSeconds": 12}


def test_access_tokens_are_short_lived_by_default() -> None:
    assert Settings().token_ttl_seconds == 900
    tokens = TokenService("s" * 40, user_ttl=900)
    before = time.time()
    issued = tokens.issue_access_token("u1", ["student"], email="a@example.org")
    assert before + 899 <= issued.expires_at.timestamp() <= time.time() + 900
    principal = tokens.verify(issued.token)
    assert principal.user_id == "u1" and principal.roles == {"student"}


def _empty_config(tmp_path: Path) -> Path:
    path = tmp_path / "byway.toml"
    path.write_text("", encoding="utf-8")
    return path


def test_new_settings_come_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "BYWAY_PUBLIC_BASE_URL": "https://learn.example.org/",
            "BYWAY_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1",
            "BYWAY_TOKEN_TTL_SECONDS": "60",
        },
        config_path=_empty_config(tmp_path),
    )
    assert settings.public_url == "https://learn.example.org"
    assert settings.trusted_proxies == ("10.0.0.0/8", "127.0.0.1")
    assert settings.token_ttl_seconds == 60
    assert Settings(self_url="http://127.0.0.1:8000/").public_url == "http://127.0.0.1:8000"
    with pytest.raises(ConfigurationError, match="TRUSTED_PROXIES"):
        Settings(trusted_proxies=("not-an-ip",)).check()


def _request(peer: str, forwarded: list[str] | None = None) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded or []]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (peer, 5555)})


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.9", None, (), "203.0.113.9"),
        # Not behind a trusted proxy: the header is the client's own claim and is ignored.
        ("203.0.113.9", ["1.2.3.4"], (), "203.0.113.9"),
        ("203.0.113.9", ["1.2.3.4"], ("10.0.0.0/8",), "203.0.113.9"),
        # Behind a trusted proxy: the nearest untrusted hop, whatever the client prepended.
        ("10.0.0.5", ["1.2.3.4, 198.51.100.7"], ("10.0.0.0/8",), "198.51.100.7"),
        ("10.0.0.5", ["1.2.3.4", "198.51.100.7, 10.0.0.9"], ("10.0.0.0/8",), "198.51.100.7"),
        ("::1", ["2001:db8::1"], ("::1",), "2001:db8::1"),
        # A proxy with nothing to forward, or garbage: the proxy itself.
        ("10.0.0.5", None, ("10.0.0.0/8",), "10.0.0.5"),
        ("10.0.0.5", ["not-an-ip"], ("10.0.0.0/8",), "10.0.0.5"),
    ],
)
def test_client_address(peer: str, forwarded: list[str] | None, trusted: tuple[str, ...], expected: str) -> None:
    assert client_address_of(_request(peer, forwarded), trusted) == expected


def test_no_request_no_address() -> None:
    assert client_address_of(None, ("10.0.0.0/8",)) is None
