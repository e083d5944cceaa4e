"""A cached service token is refreshed before it expires (mutation run: one reused forever slipped
through, and every cross-plugin service call would fail after its lifetime)."""

from __future__ import annotations

import time

import pytest
from jose import jwt

import byway.auth
from byway.auth import TokenService
from byway.errors import Unauthenticated
from byway.testing import TEST_JWT_SECRET


def test_service_token_is_reused_while_fresh_and_renewed_before_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1_000_000.0]
    monkeypatch.setattr(byway.auth.time, "time", lambda: clock[0])
    tokens = TokenService(TEST_JWT_SECRET, "HS256", service_ttl=300)
    first = tokens.service_token("ecommerce")
    clock[0] += 100
    assert tokens.service_token("ecommerce") == first  # 200 s left: reused
    clock[0] += 60
    renewed = tokens.service_token("ecommerce")  # 140 s left, under half the lifetime: renewed
    assert renewed != first
    assert jwt.get_unverified_claims(renewed)["exp"] == int(clock[0]) + 300
    clock[0] += 250
    assert jwt.get_unverified_claims(tokens.service_token("ecommerce"))["exp"] > clock[0]  # never expired


def test_a_service_token_past_its_lifetime_is_replaced_by_a_valid_one() -> None:
    tokens = TokenService(TEST_JWT_SECRET, "HS256", service_ttl=1)
    first = tokens.service_token("teach")
    expires = jwt.get_unverified_claims(first)["exp"]
    deadline = time.monotonic() + 5
    # python-jose compares whole seconds: wait until the clock is a full second past the expiry.
    while time.time() < expires + 1.05 and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(Unauthenticated):
        tokens.verify(first)
    assert tokens.verify(tokens.service_token("teach")).service == "teach"
