"""The Stripe webhook: signatures, replays, dedupe in the effect's transaction, every handled event type."""

from __future__ import annotations

import json
import time
from typing import Any

from byway_ecommerce.models import (
    CANCELLED,
    OUTBOX_DONE,
    OUTBOX_REVOKED,
    PAID,
    PENDING,
    REFUNDED,
    enrollment_outbox,
    order_items,
    orders,
    payments,
    processed_events,
)
from byway_ecommerce.state import webhook_secret
from ecommerce_shop import Shop, event, session_object, sign_payload


async def pending_order(
    shop: Shop, prices: tuple[int, ...] = (1000,), user: str = "buyer"
) -> tuple[dict[str, Any], list[str]]:
    course_ids = [shop.courses.add_course(f"Course {i}", price) for i, price in enumerate(prices)]
    result = await shop.buy(course_ids, token=shop.user(user))
    return result, course_ids


def paid_event(result: dict[str, Any], amount: int, **kwargs: Any) -> dict[str, Any]:
    return event(
        "checkout.session.completed", session_object(result["orderId"], result["sessionId"], amount=amount, **kwargs)
    )


async def order_status(shop: Shop, order_id: str) -> str:
    (order,) = await shop.rows(orders, orders.c.id == order_id)
    return str(order.status)


async def assert_untouched(shop: Shop, order_id: str) -> None:
    assert await order_status(shop, order_id) == PENDING
    assert await shop.count(payments) == 0
    assert await shop.count(processed_events) == 0
    assert await shop.count(enrollment_outbox) == 0


async def test_paid_event_fulfils_the_order_and_enrolls_every_item(shop: Shop) -> None:
    result, course_ids = await pending_order(shop, (1000, 2500))
    response = await shop.post_event(paid_event(result, 3500))
    assert response.status_code == 200
    assert response.json()["result"] == "fulfilled"
    await shop.settle()

    (order,) = await shop.rows(orders)
    assert order.status == PAID and order.paid_at is not None
    (payment,) = await shop.rows(payments)
    assert (payment.order_id, payment.amount_cents, payment.currency, payment.status, payment.source) == (
        order.id,
        3500,
        "USD",
        "succeeded",
        "webhook",
    )
    assert json.loads(payment.raw)["type"] == "checkout.session.completed"
    rows = await shop.rows(enrollment_outbox)
    assert sorted(r.course_id for r in rows) == sorted(course_ids)
    assert {r.status for r in rows} == {OUTBOX_DONE}
    student = shop.students.student_of("buyer")
    assert shop.students.enrollments == {(student, c) for c in course_ids}
    assert sorted(shop.students.enroll_calls) == sorted((student, c) for c in course_ids)


async def test_forged_signature_is_refused_and_writes_nothing(shop: Shop) -> None:
    result, _ = await pending_order(shop)
    response = await shop.post_event(paid_event(result, 1000), secret="whsec_someone_else")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    await assert_untouched(shop, result["orderId"])


async def test_missing_or_malformed_signature_is_refused(shop: Shop) -> None:
    result, _ = await pending_order(shop)
    payload = json.dumps(paid_event(result, 1000))
    for headers in ({}, {"Stripe-Signature": "garbage"}, {"Stripe-Signature": "t=abc,v1=def"}):
        response = await shop.app.client.post("/api/ecommerce/stripe/webhook", content=payload, headers=headers)
        assert response.status_code == 400, headers
    await assert_untouched(shop, result["orderId"])


async def test_tampered_body_is_refused(shop: Shop) -> None:
    result, _ = await pending_order(shop)
    payload = json.dumps(paid_event(result, 1000))
    header = sign_payload(payload, webhook_secret(shop.runtime))
    tampered = payload.replace('"amount_total": 1000', '"amount_total": 1')
    assert tampered != payload
    response = await shop.app.client.post(
        "/api/ecommerce/stripe/webhook", content=tampered, headers={"Stripe-Signature": header}
    )
    assert response.status_code == 400
    await assert_untouched(shop, result["orderId"])


async def test_stale_signature_is_refused(shop: Shop) -> None:
    result, _ = await pending_order(shop)
    response = await shop.post_event(paid_event(result, 1000), timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert "tolerance" in response.json()["errors"][0]["message"]
    await assert_untouched(shop, result["orderId"])
    # Just inside the tolerance it is accepted.
    response = await shop.post_event(paid_event(result, 1000), timestamp=int(time.time()) - 250)
    assert response.status_code == 200


async def test_replayed_event_is_a_no_op(shop: Shop) -> None:
    result, _ = await pending_order(shop)
    paid = paid_event(result, 1000)
    first = await shop.post_event(paid)
    await shop.settle()
    again = await shop.post_event(paid)
    await shop.settle()
    assert (first.json()["result"], again.json()["result"]) == ("fulfilled", "duplicate")
    assert await shop.count(payments) == 1
    assert await shop.count(processed_events) == 1
    assert await shop.count(enrollment_outbox) == 1
    assert len(shop.students.enroll_calls) == 1
    # A different event for the same paid session (e.g. async_payment_succeeded) changes nothing either.
    other = event("checkout.session.async_payment_succeeded", paid["data"]["object"])
    response = await shop.post_event(other)
    assert response.json()["result"] == "already_paid"
    assert await shop.count(payments) == 1
    assert await shop.count(processed_events) == 2


async def test_unknown_event_types_are_acknowledged_and_ignored(shop: Shop) -> None:
    result, _ = await pending_order(shop)
    response = await shop.post_event(event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert response.status_code == 200
    assert response.json()["result"] == "ignored"
    await assert_untouched(shop, result["orderId"])


async def test_signed_payload_that_is_not_an_event_is_refused(shop: Shop) -> None:
    for payload in ("not json", "[1, 2]", json.dumps({"id": "evt_1", "object": "event", "type": "x"})):
        header = sign_payload(payload, webhook_secret(shop.runtime))
        response = await shop.app.client.post(
            "/api/ecommerce/stripe/webhook", content=payload, headers={"Stripe-Signature": header}
        )
        assert response.status_code == 400, payload
    assert await shop.count(processed_events) == 0


async def test_unpaid_completion_waits_for_async_payment(shop: Shop) -> None:
    result, _ = await pending_order(shop)
    obj = session_object(result["orderId"], result["sessionId"], amount=1000, payment_status="unpaid")
    response = await shop.post_event(event("checkout.session.completed", obj))
    assert response.json()["result"] == "awaiting_payment"
    assert await order_status(shop, result["orderId"]) == PENDING
    obj = session_object(result["orderId"], result["sessionId"], amount=1000)
    response = await shop.post_event(event("checkout.session.async_payment_succeeded", obj))
    assert response.json()["result"] == "fulfilled"
    assert await order_status(shop, result["orderId"]) == PAID


async def test_expired_and_failed_sessions_cancel_pending_orders_only(shop: Shop) -> None:
    expired, _ = await pending_order(shop)
    failed, _ = await pending_order(shop)
    paid, _ = await pending_order(shop)
    obj = session_object(
        expired["orderId"], expired["sessionId"], amount=1000, status="expired", payment_status="unpaid"
    )
    assert (await shop.post_event(event("checkout.session.expired", obj))).json()["result"] == "cancelled"
    obj = session_object(failed["orderId"], failed["sessionId"], amount=1000, payment_status="unpaid")
    response = await shop.post_event(event("checkout.session.async_payment_failed", obj))
    assert response.json()["result"] == "cancelled"
    await shop.post_event(paid_event(paid, 1000))
    obj = session_object(paid["orderId"], paid["sessionId"], amount=1000, status="expired")
    assert (await shop.post_event(event("checkout.session.expired", obj))).json()["result"] == "unchanged"
    await shop.settle()
    assert await order_status(shop, expired["orderId"]) == CANCELLED
    assert await order_status(shop, failed["orderId"]) == CANCELLED
    assert await order_status(shop, paid["orderId"]) == PAID


async def test_event_for_another_session_of_the_order_is_not_applied(shop: Shop) -> None:
    result, _ = await pending_order(shop)
    forged = session_object(result["orderId"], "cs_some_other_session", amount=1)
    response = await shop.post_event(event("checkout.session.completed", forged))
    assert response.json()["result"] == "session_mismatch"
    assert await order_status(shop, result["orderId"]) == PENDING
    assert await shop.count(payments) == 0


async def test_event_for_an_unknown_order_is_acknowledged(shop: Shop) -> None:
    obj = session_object("no-such-order", "cs_unknown", amount=1000)
    response = await shop.post_event(event("checkout.session.completed", obj))
    assert (response.status_code, response.json()["result"]) == (200, "unknown_order")
    assert await shop.count(payments) == 0


async def test_price_change_between_checkout_and_payment_changes_nothing(shop: Shop) -> None:
    result, (course_id,) = await pending_order(shop, (1000,))
    shop.courses.courses[course_id]["priceCents"] = 9900
    shop.courses.courses[course_id]["title"] = "Renamed"
    await shop.post_event(paid_event(result, 1000))
    await shop.settle()
    (item,) = await shop.rows(order_items)
    assert (item.title, item.price_cents) == ("Course 0", 1000)
    (order,) = await shop.rows(orders)
    (payment,) = await shop.rows(payments)
    assert (order.total_cents, payment.amount_cents) == (1000, 1000)


async def test_full_refund_revokes_every_enrollment(shop: Shop) -> None:
    result, course_ids = await pending_order(shop, (1000, 2000))
    paid = paid_event(result, 3000, payment_intent="pi_refund_me")
    await shop.post_event(paid)
    await shop.settle()
    student = shop.students.student_of("buyer")
    assert len(shop.students.enrollments) == 2

    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": "pi_refund_me",
        "amount": 3000,
        "amount_refunded": 3000,
        "refunded": True,
    }
    response = await shop.post_event(event("charge.refunded", charge))
    assert response.json()["result"] == "refunded"
    await shop.settle()
    assert await order_status(shop, result["orderId"]) == REFUNDED
    (payment,) = await shop.rows(payments)
    assert (payment.status, payment.amount_refunded_cents) == ("refunded", 3000)
    assert {r.status for r in await shop.rows(enrollment_outbox)} == {OUTBOX_REVOKED}
    assert sorted(shop.students.revoke_calls) == sorted((student, c) for c in course_ids)
    assert shop.students.enrollments == set()
    # Redelivery and a second refund event change nothing.
    assert (await shop.post_event(event("charge.refunded", charge))).json()["result"] == "already_refunded"
    await shop.settle()
    assert len(shop.students.revoke_calls) == 2


async def test_partial_refund_keeps_the_enrollments(shop: Shop) -> None:
    result, _ = await pending_order(shop, (1000, 2000))
    await shop.post_event(paid_event(result, 3000, payment_intent="pi_partial"))
    await shop.settle()
    charge = {
        "id": "ch_2",
        "object": "charge",
        "payment_intent": "pi_partial",
        "amount": 3000,
        "amount_refunded": 500,
        "refunded": False,
    }
    response = await shop.post_event(event("charge.refunded", charge))
    assert response.json()["result"] == "partially_refunded"
    assert await order_status(shop, result["orderId"]) == PAID
    (payment,) = await shop.rows(payments)
    assert (payment.status, payment.amount_refunded_cents) == ("partially_refunded", 500)
    assert len(shop.students.enrollments) == 2 and shop.students.revoke_calls == []


async def test_refund_of_an_unknown_payment_is_acknowledged(shop: Shop) -> None:
    charge = {"id": "ch_3", "object": "charge", "payment_intent": "pi_not_ours", "amount": 100, "refunded": True}
    response = await shop.post_event(event("charge.refunded", charge))
    assert (response.status_code, response.json()["result"]) == (200, "unknown_payment")
    assert await shop.count(payments) == 0


async def test_oversized_body_is_refused(shop: Shop) -> None:
    big = "x" * (shop.app.host.settings.max_body_bytes + 1)
    response = await shop.app.client.post(
        "/api/ecommerce/stripe/webhook", content=big, headers={"Stripe-Signature": "t=1,v1=x"}
    )
    assert response.status_code == 413
    assert await shop.count(processed_events) == 0
