"""Permission rows of ecommerce's operations added in the second round (issue 10 #3, #4, #8), with the
real plugins: who may name a studentId in createCheckout, list others' orders, resolve a review and
read the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from byway.settings import Settings
from byway.testing import error_codes, running_app

from .conftest import CORE_PLUGINS, World, fast_settings

byway_ecommerce = pytest.importorskip("byway_ecommerce")
from byway_ecommerce import plugin as ecommerce  # noqa: E402

CHECKOUT = """
mutation C($c: ID!, $s: ID) {
  createCheckout(items: [{courseId: $c}], successUrl: "https://ok.example", cancelUrl: "https://no.example",
                 studentId: $s) { orderId }
}"""
MY_STUDENT = "{ myStudent { id } }"
ORDERS_OF = "query O($s: ID) { myOrders(studentId: $s) { id studentId } }"
IN_REVIEW = "{ myOrders(status: REVIEW) { id } }"
RESOLVE = 'mutation { resolveOrderReview(orderId: "no-such-order", action: FULFIL) { id } }'
AUDIT = "{ auditLog { id action } }"

OK, UNAUTH, FORBID, NOT_FOUND = "OK", "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND"
CALLERS = ("anonymous", "buyer", "other", "admin", "service")
#: operation -> expected outcome per caller, in CALLERS order.
TABLE: dict[str, tuple[str, ...]] = {
    "createCheckout(studentId: buyer's)": (UNAUTH, OK, FORBID, OK, OK),
    "myOrders(studentId: buyer's)": (UNAUTH, OK, FORBID, OK, FORBID),
    "myOrders(status: REVIEW)": (UNAUTH, OK, OK, OK, FORBID),
    "resolveOrderReview": (UNAUTH, FORBID, FORBID, NOT_FOUND, FORBID),
    "auditLog": (UNAUTH, FORBID, FORBID, OK, FORBID),
}


@pytest.fixture
async def shop_world(byway_settings: Settings) -> AsyncIterator[tuple[World, dict[str, Any]]]:
    async with running_app([*CORE_PLUGINS, ecommerce], fast_settings(byway_settings)) as app:
        world = World(app)
        teacher, _ = await world.teacher()
        buyer, other, admin = await world.user("buyer"), await world.user("other"), await world.admin()
        tokens = {
            "anonymous": None,
            "buyer": buyer.token,
            "other": other.token,
            "admin": admin.token,
            "service": world.service_token("storefront"),
        }
        # The buyer's Student exists once they check out something themselves.
        first = await world.course(teacher, price=900)
        assert "errors" not in await world.gql("ecommerce", CHECKOUT, {"c": first}, token=buyer.token)
        student = (await world.gql("students-internal", MY_STUDENT, token=buyer.token))["data"]["myStudent"]["id"]
        yield world, {"tokens": tokens, "student": student, "teacher": teacher}


def outcome(body: dict[str, Any]) -> str:
    codes = error_codes(body)
    return codes[0] if codes else OK


@pytest.mark.parametrize("operation", list(TABLE))
async def test_permission_table(shop_world: tuple[World, dict[str, Any]], operation: str) -> None:
    world, facts = shop_world
    seen = []
    for caller in CALLERS:
        token = facts["tokens"][caller]
        if operation.startswith("createCheckout"):
            course = await world.course(facts["teacher"], price=1200)
            body = await world.gql("ecommerce", CHECKOUT, {"c": course, "s": facts["student"]}, token=token)
        elif operation.startswith("myOrders(studentId"):
            body = await world.gql("ecommerce", ORDERS_OF, {"s": facts["student"]}, token=token)
            if outcome(body) == OK:
                assert {o["studentId"] for o in body["data"]["myOrders"]} == {facts["student"]}
        elif operation.startswith("myOrders(status"):
            body = await world.gql("ecommerce", IN_REVIEW, token=token)
        elif operation == "resolveOrderReview":
            body = await world.gql("ecommerce", RESOLVE, token=token)
        else:
            body = await world.gql("ecommerce", AUDIT, token=token)
        seen.append(outcome(body))
    assert tuple(seen) == TABLE[operation], dict(zip(CALLERS, seen, strict=True))
