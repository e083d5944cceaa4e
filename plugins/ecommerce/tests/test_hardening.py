"""Issue 10 findings in ecommerce: each test replays the original attack and asserts the fix."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from byway_ecommerce.models import (
    OUTBOX_DONE,
    PAID,
    PENDING,
    REFUNDED,
    REVIEW,
    active_checkouts,
    audit_log,
    dev_sessions,
    enrollment_outbox,
    orders,
    payments,
)
from byway_ecommerce.state import DEV_SECRET_FILE, webhook_secret
from ecommerce_shop import (
    CREATE_CHECKOUT,
    MY_ORDERS,
    OLD_DEV_SECRET,
    SUCCESS,
    Shop,
    event,
    open_shop,
    session_object,
)

from byway.settings import Settings
from byway.testing import error_codes

RESOLVE = """
mutation R($o: ID!, $a: ReviewAction!) {
  resolveOrderReview(orderId: $o, action: $a) { id status reviewReason items { courseId } }
}"""
ORDERS_IN = "query O($s: OrderStatus, $st: ID) { myOrders(status: $s, studentId: $st) { id status reviewReason } }"
AUDIT = """query A($f: Int, $a: ID) {
  auditLog(first: $f, after: $a) { id at actorKind actorId action target details clientAddress }
}"""


def paid_event(result: dict[str, Any], amount: int, currency: str = "usd", pi: str | None = None) -> dict[str, Any]:
    obj = session_object(result["orderId"], result["sessionId"], amount=amount, currency=currency, payment_intent=pi)
    return event("checkout.session.completed", obj)


def anonymous_checkout(course: str, student: str, **extra: Any) -> dict[str, Any]:
    return {
        "items": [{"courseId": course}],
        "successUrl": SUCCESS,
        "cancelUrl": "https://evil.example/",
        "studentId": student,
        **extra,
    }


# --- 3. checkout on someone else's behalf -------------------------------------------------------


async def test_a_stranger_naming_a_students_id_reads_and_changes_nothing(shop: Shop) -> None:
    victim = shop.user("victim")
    owned = shop.courses.add_course("Owned Secretly", 1000)
    wanted = shop.courses.add_course("Wanted", 2000)
    bought = await shop.buy([owned], token=victim)
    await shop.post_event(paid_event(bought, 1000))
    await shop.settle()
    open_checkout = await shop.buy([wanted], token=victim)
    student = shop.students.student_of("victim")
    assert student is not None
    before = {(r.id, r.status, r.superseded_at) for r in await shop.rows(orders)}
    calls_before = dict(shop.students.calls)

    for token, code in ((None, "UNAUTHENTICATED"), (shop.user("attacker"), "FORBIDDEN")):
        for course in (owned, wanted):
            variables = anonymous_checkout(course, student, email="attacker@evil.example")
            body = await shop.app.gql("ecommerce", CREATE_CHECKOUT, variables, token=token)
            assert error_codes(body) == [code], body
            # No ALREADY_ENROLLED, no course title: nothing about the student is revealed.
            assert "courseTitle" not in body["errors"][0]["extensions"]
            assert "Owned Secretly" not in body["errors"][0]["message"]

    assert {(r.id, r.status, r.superseded_at) for r in await shop.rows(orders)} == before
    # Nobody asked students-internal about the victim's courses on the attacker's behalf.
    assert shop.students.calls["enrollmentStatus"] == calls_before.get("enrollmentStatus", 0)
    # The victim's open checkout is still payable and still theirs.
    (session,) = await shop.rows(dev_sessions, dev_sessions.c.order_id == open_checkout["orderId"])
    assert session.status == "open"
    assert {r.order_id for r in await shop.rows(active_checkouts)} == {open_checkout["orderId"]}
    response = await shop.press(open_checkout["url"], "pay")
    assert response.status_code == 303
    mine = (await shop.app.gql("ecommerce", MY_ORDERS, token=victim))["data"]["myOrders"]
    assert all(order["email"] != "attacker@evil.example" for order in mine)
    assert len(mine) == 2


async def test_services_and_admins_may_still_name_a_student(shop: Shop) -> None:
    student = shop.students.add_student("someone")
    course = shop.courses.add_course()
    service = shop.app.host.tokens.service_token("storefront")
    body = await shop.app.gql("ecommerce", CREATE_CHECKOUT, anonymous_checkout(course, student), token=service)
    assert "errors" not in body, body
    other = shop.courses.add_course()
    admin = shop.user("admin", ("student", "admin"))
    body = await shop.app.gql("ecommerce", CREATE_CHECKOUT, anonymous_checkout(other, student), token=admin)
    assert "errors" not in body, body


# --- 4. underpaid or wrong-currency payments ----------------------------------------------------


@pytest.mark.parametrize(("amount", "currency"), [(1, "jpy"), (100, "usd"), (4900, "eur")])
async def test_an_underpaid_or_wrong_currency_payment_is_held_for_review(
    shop: Shop, amount: int, currency: str
) -> None:
    course = shop.courses.add_course("Pricey", 4900, "USD")
    buyer = shop.user("buyer")
    result = await shop.buy([course], token=buyer)
    response = await shop.post_event(paid_event(result, amount, currency, pi="pi_under"))
    assert response.json()["result"] == "review"
    await shop.settle()

    (order,) = await shop.rows(orders)
    assert order.status == REVIEW and order.paid_at is not None
    assert f" {currency.upper()} " in order.review_reason and "49.00 USD" in order.review_reason
    if currency == "jpy":
        assert "charged 1 JPY" in order.review_reason
    (payment,) = await shop.rows(payments)  # the money trail is kept
    assert (payment.amount_cents, payment.currency, payment.provider_reference) == (
        amount,
        currency.upper(),
        "pi_under",
    )
    assert await shop.count(enrollment_outbox) == 0
    assert shop.students.enroll_calls == []
    assert await shop.count(active_checkouts) == 0  # the guard rows went with PENDING

    # The buyer sees the review; verify is not ok; a new checkout of the course is refused meanwhile.
    (mine,) = (await shop.app.gql("ecommerce", MY_ORDERS, token=buyer))["data"]["myOrders"]
    assert mine["status"] == REVIEW
    assert (await shop.verify(result["sessionId"], token=buyer))["data"]["verifyCheckout"]["ok"] is False
    assert error_codes(await shop.checkout([course], token=buyer)) == ["CONFLICT"]

    # Admins see it in reconcile and in myOrders(status: REVIEW).
    admin = shop.user("admin", ("student", "admin"))
    summary = (
        await shop.app.client.post("/api/ecommerce/reconcile", headers={"Authorization": f"Bearer {admin}"})
    ).json()
    assert [entry["orderId"] for entry in summary["review"]] == [result["orderId"]]
    listed = (await shop.app.gql("ecommerce", ORDERS_IN, {"s": REVIEW}, token=admin))["data"]["myOrders"]
    assert [(o["id"], o["status"]) for o in listed] == [(result["orderId"], REVIEW)]


async def test_an_admin_resolves_a_review_once_and_it_is_audited(shop: Shop) -> None:
    first = shop.courses.add_course("A", 1000)
    second = shop.courses.add_course("B", 1000)
    accepted = await shop.buy([first], token=shop.user("one"))
    refunded = await shop.buy([second], token=shop.user("two"))
    await shop.post_event(paid_event(accepted, 999))
    await shop.post_event(paid_event(refunded, 10, "eur"))
    admin = shop.user("admin-7", ("student", "admin"))

    for token, code in ((None, "UNAUTHENTICATED"), (shop.user("one"), "FORBIDDEN")):
        body = await shop.app.gql("ecommerce", RESOLVE, {"o": accepted["orderId"], "a": "FULFIL"}, token=token)
        assert error_codes(body) == [code]
    body = await shop.app.gql("ecommerce", RESOLVE, {"o": "no-such-order", "a": "FULFIL"}, token=admin)
    assert error_codes(body) == ["NOT_FOUND"]

    body = await shop.app.gql("ecommerce", RESOLVE, {"o": accepted["orderId"], "a": "FULFIL"}, token=admin)
    assert body["data"]["resolveOrderReview"]["status"] == PAID
    body = await shop.app.gql("ecommerce", RESOLVE, {"o": refunded["orderId"], "a": "MARK_REFUNDED"}, token=admin)
    assert body["data"]["resolveOrderReview"]["status"] == REFUNDED
    again = await shop.app.gql("ecommerce", RESOLVE, {"o": accepted["orderId"], "a": "MARK_REFUNDED"}, token=admin)
    assert error_codes(again) == ["CONFLICT"]
    await shop.settle()

    assert shop.students.enrollments == {(shop.students.student_of("one"), first)}
    statuses = {r.order_id: r.status for r in await shop.rows(payments)}
    assert statuses == {accepted["orderId"]: "succeeded", refunded["orderId"]: "refunded"}
    entries = (await shop.app.gql("ecommerce", AUDIT, {"f": 10}, token=admin))["data"]["auditLog"]
    actions = {(e["action"], e["target"], e["actorKind"], e["actorId"]) for e in entries}
    assert ("orders.review.fulfil", accepted["orderId"], "user", "admin-7") in actions
    assert ("orders.review.mark_refunded", refunded["orderId"], "user", "admin-7") in actions
    assert all(e["clientAddress"] for e in entries)


async def test_the_dev_webhook_secret_is_per_data_directory(byway_settings: Settings, tmp_path: Path) -> None:
    async with open_shop(byway_settings) as shop:
        secret = webhook_secret(shop.runtime)
        path = Path(byway_settings.data_dir) / DEV_SECRET_FILE
        assert path.read_text().strip() == secret and secret != OLD_DEV_SECRET and len(secret) > 40
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        course = shop.courses.add_course("Free ride", 4900)
        result = await shop.buy([course], token=shop.user("forger"))
        # The attack: an event signed with the once-public constant.
        response = await shop.post_event(paid_event(result, 4900), secret=OLD_DEV_SECRET)
        assert response.status_code == 400
        assert (await shop.rows(orders))[0].status == PENDING
    async with open_shop(byway_settings) as shop:
        assert webhook_secret(shop.runtime) == secret  # kept across restarts
    other = byway_settings.with_overrides(data_dir=tmp_path / "elsewhere")
    async with open_shop(other) as shop:
        assert webhook_secret(shop.runtime) != secret


# --- 8. CSRF on the dev checkout form, audit of refunds and reconciles ---------------------------


async def test_the_dev_checkout_form_needs_its_csrf_token(shop: Shop) -> None:
    course = shop.courses.add_course()
    result = await shop.buy([course], token=shop.user("csrf"))
    other = await shop.buy([shop.courses.add_course()], token=shop.user("csrf-2"))
    path = "/api/ecommerce/dev-checkout/" + result["sessionId"]
    page = await shop.app.client.get(path)
    assert "name='csrf_token'" in page.text
    other_page = await shop.app.client.get("/api/ecommerce/dev-checkout/" + other["sessionId"])
    foreign_token = other_page.text.split("name='csrf_token' value='")[1].split("'")[0]

    # A cross-site form post: no token, or the token of another session.
    for data in ({"action": "pay"}, {"action": "pay", "csrf_token": foreign_token}, {"action": "cancel"}):
        response = await shop.app.client.post(path, data=data)
        assert response.status_code == 403
    (session,) = await shop.rows(dev_sessions, dev_sessions.c.id == result["sessionId"])
    assert session.status == "open"
    assert (await shop.rows(orders, orders.c.id == result["orderId"]))[0].status == PENDING

    token = page.text.split("name='csrf_token' value='")[1].split("'")[0]
    response = await shop.app.client.post(path, data={"action": "pay", "csrf_token": token})
    assert response.status_code == 303


async def test_refunds_and_reconciles_are_audited_and_only_admins_read_the_log(byway_settings: Settings) -> None:
    async with open_shop(byway_settings, admin_token="admin-token-0123456789abcdef") as shop:
        course = shop.courses.add_course()
        result = await shop.buy([course], token=shop.user("refundee"))
        await shop.post_event(paid_event(result, 1000, pi="pi_audited"))
        charge = {"id": "ch_1", "object": "charge", "payment_intent": "pi_audited", "amount": 1000, "refunded": True}
        assert (await shop.post_event(event("charge.refunded", charge))).json()["result"] == "refunded"
        admin = shop.user("admin-9", ("student", "admin"))
        headers = {"Authorization": f"Bearer {admin}", "X-Forwarded-For": "203.0.113.9"}
        assert (await shop.app.client.post("/api/ecommerce/reconcile", headers=headers)).status_code == 200
        token_headers = {"X-Byway-Admin-Token": "admin-token-0123456789abcdef"}
        assert (await shop.app.client.post("/api/ecommerce/reconcile", headers=token_headers)).status_code == 200

        rows = await shop.rows(audit_log)
        by_action = sorted((r.action, r.actor_kind, r.actor_id, r.target) for r in rows)
        assert by_action == [
            ("orders.reconcile", "service", "admin-token", None),
            ("orders.reconcile", "user", "admin-9", None),
            ("orders.refunded", "service", "payment-provider", result["orderId"]),
        ]
        assert all(r.client_address for r in rows)
        details = json.loads(next(r.details for r in rows if r.action == "orders.refunded"))
        assert details["amountRefunded"] is None or isinstance(details["amountRefunded"], int)

        entries = (await shop.app.gql("ecommerce", AUDIT, {"f": 2}, token=admin))["data"]["auditLog"]
        assert len(entries) == 2
        page_two = (await shop.app.gql("ecommerce", AUDIT, {"f": 2, "a": entries[-1]["id"]}, token=admin))["data"]
        assert len(page_two["auditLog"]) == 1
        assert error_codes(await shop.app.gql("ecommerce", AUDIT, token=shop.user("refundee"))) == ["FORBIDDEN"]
        assert error_codes(await shop.app.gql("ecommerce", AUDIT)) == ["UNAUTHENTICATED"]
        assert {r.status for r in await shop.rows(enrollment_outbox)} <= {OUTBOX_DONE, "revoked", "revoke_pending"}
