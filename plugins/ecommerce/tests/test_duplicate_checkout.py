"""One live checkout per buyer and course: two tabs, a double click or a retry cannot be paid twice.

The same cart again reuses the open session; an overlapping cart supersedes the old checkout (its
session is expired at the provider, the order CANCELLED); an old session that was paid meanwhile is
fulfilled and the new checkout refused with ALREADY_ENROLLED; concurrent requests share one order.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from byway_ecommerce import open_checkout, supersede
from byway_ecommerce.dev_provider import DevProvider
from byway_ecommerce.models import (
    CANCELLED,
    OUTBOX_DONE,
    PAID,
    PENDING,
    active_checkouts,
    dev_sessions,
    enrollment_outbox,
    order_items,
    orders,
    payments,
)
from byway_ecommerce.reconcile import reconcile
from byway_ecommerce.state import state_of
from ecommerce_fake_stripe import FakeStripe
from ecommerce_shop import Shop, event, open_shop, session_object

from byway.db import utcnow
from byway.settings import Settings
from byway.testing import error_codes

CONCURRENT = 10


def path(url: str) -> str:
    return urlsplit(url).path


def dev(shop: Shop) -> DevProvider:
    provider = state_of(shop.runtime).provider
    assert isinstance(provider, DevProvider)
    return provider


async def order_row(shop: Shop, order_id: str) -> Any:
    (row,) = await shop.rows(orders, orders.c.id == order_id)
    return row


async def guard(shop: Shop) -> set[tuple[str, str]]:
    """The active-checkout rows as (course id, order id)."""
    return {(row.course_id, row.order_id) for row in await shop.rows(active_checkouts)}


async def set_order(shop: Shop, order_id: str, **values: Any) -> None:
    async with shop.runtime.sessions() as session, session.begin():
        await session.execute(orders.update().where(orders.c.id == order_id).values(**values))


# --- dev provider -------------------------------------------------------------------------------


async def test_same_cart_twice_returns_the_same_open_checkout(shop: Shop) -> None:
    a = shop.courses.add_course("Algebra", 1000)
    b = shop.courses.add_course("Biology", 2000)
    token = shop.user("two-tabs")
    first = await shop.buy([a, b], token=token, email="tabs@example.com")
    again = await shop.buy([b, a], token=token, email="tabs@example.com")  # the order of the cart does not matter

    assert again == first
    assert await shop.count(orders) == 1
    assert await shop.count(order_items) == 2
    assert await shop.count(dev_sessions) == 1
    assert await guard(shop) == {(a, first["orderId"]), (b, first["orderId"])}
    assert shop.students.calls["enrollmentStatus"] == 2  # ownership is still asked every time
    assert (await order_row(shop, first["orderId"])).status == PENDING
    # The page of the reused session still takes the payment.
    response = await shop.press(again["url"], "pay")
    assert response.status_code == 303
    await shop.settle()
    assert (await order_row(shop, first["orderId"])).status == PAID
    assert await guard(shop) == set()  # released when the order left PENDING


async def test_a_new_price_or_other_details_open_a_new_checkout(shop: Shop) -> None:
    course = shop.courses.add_course("Chemistry", 1000)
    token = shop.user("changes")
    first = await shop.buy([course], token=token)
    shop.courses.courses[course]["priceCents"] = 1500  # the teacher changed the price meanwhile
    second = await shop.buy([course], token=token)
    assert second["orderId"] != first["orderId"] and second["sessionId"] != first["sessionId"]
    old = await order_row(shop, first["orderId"])
    assert old.status == CANCELLED and old.superseded_at is not None
    old_session = await dev(shop).retrieve_session(first["sessionId"])
    assert old_session is not None and old_session.status == "expired"
    assert (await order_row(shop, second["orderId"])).total_cents == 1500

    third = await shop.buy([course], token=token, email="other@example.com")  # another email: another session
    assert third["orderId"] != second["orderId"]
    assert (await order_row(shop, second["orderId"])).status == CANCELLED
    assert await shop.count(orders, orders.c.status == PENDING) == 1
    assert await guard(shop) == {(course, third["orderId"])}


async def test_overlapping_cart_supersedes_the_old_checkout(shop: Shop) -> None:
    a = shop.courses.add_course("Algebra", 1000)
    b = shop.courses.add_course("Biology", 2000)
    token = shop.user("switcher")
    old = await shop.buy([a], token=token)
    new = await shop.buy([a, b], token=token)

    assert new["orderId"] != old["orderId"]
    superseded = await order_row(shop, old["orderId"])
    assert superseded.status == CANCELLED and superseded.superseded_at is not None
    (old_session,) = await shop.rows(dev_sessions, dev_sessions.c.id == old["sessionId"])
    assert old_session.status == "expired"
    assert await guard(shop) == {(a, new["orderId"]), (b, new["orderId"])}

    # The old page no longer takes money, and says why.
    refused = await shop.press(old["url"], "pay")
    assert refused.status_code == 409
    assert "replaced by a newer checkout" in refused.text
    page = await shop.app.client.get(path(old["url"]))
    assert "replaced by a newer checkout" in page.text and "value='pay'" not in page.text
    assert await shop.count(payments) == 0

    # The new one works.
    response = await shop.press(new["url"], "pay")
    assert response.status_code == 303
    await shop.settle()
    assert (await order_row(shop, new["orderId"])).status == PAID
    assert (await order_row(shop, old["orderId"])).status == CANCELLED
    student = shop.students.student_of("switcher")
    assert shop.students.enrollments == {(student, a), (student, b)}
    assert await shop.count(payments) == 1
    assert await guard(shop) == set()
    body = await shop.checkout([a], token=token)
    assert error_codes(body) == ["ALREADY_ENROLLED"]


async def test_a_paid_order_not_yet_enrolled_refuses_a_new_checkout(shop: Shop) -> None:
    a = shop.courses.add_course("Paid, enrollment pending", 900)
    token = shop.user("impatient")
    paid = await shop.buy([a], token=token)
    shop.students.fail_writes = True  # students-internal cannot enroll: the outbox row waits
    await shop.post_event(event("checkout.session.completed", session_object(**_ids(paid), amount=900)))
    await shop.settle()
    assert shop.students.enrollments == set()

    body = await shop.checkout([shop.courses.add_course(), a], token=token)
    assert error_codes(body) == ["ALREADY_ENROLLED"]
    assert (body["errors"][0]["extensions"]["courseId"], body["errors"][0]["extensions"]["courseTitle"]) == (
        a,
        "Paid, enrollment pending",
    )
    assert await shop.count(orders) == 1 and await shop.count(dev_sessions) == 1


async def test_a_session_that_expired_by_itself_is_cancelled_not_superseded(shop: Shop) -> None:
    course = shop.courses.add_course()
    token = shop.user("late")
    old = await shop.buy([course], token=token)
    await dev(shop).mark_expired(old["sessionId"])  # its expiry event has not arrived
    new = await shop.buy([course], token=token)
    assert new["orderId"] != old["orderId"]
    cancelled = await order_row(shop, old["orderId"])
    assert cancelled.status == CANCELLED and cancelled.superseded_at is None
    assert await guard(shop) == {(course, new["orderId"])}


async def test_a_session_about_to_expire_is_not_reused(shop: Shop) -> None:
    course = shop.courses.add_course()
    token = shop.user("last-minute")
    old = await shop.buy([course], token=token)
    async with shop.runtime.sessions() as session, session.begin():
        await session.execute(dev_sessions.update().values(expires_at=utcnow() + timedelta(minutes=1)))
    new = await shop.buy([course], token=token)
    assert new["sessionId"] != old["sessionId"]
    assert (await order_row(shop, old["orderId"])).superseded_at is not None


async def test_the_guard_is_released_whenever_an_order_leaves_pending(shop: Shop) -> None:
    token = shop.user("leaver")
    cancelled = await shop.buy([shop.courses.add_course()], token=token)
    await shop.press(cancelled["url"], "cancel")
    paid = await shop.buy([shop.courses.add_course(price=700)], token=token)
    await shop.post_event(event("checkout.session.completed", session_object(**_ids(paid), amount=700)))
    expired = await shop.buy([shop.courses.add_course()], token=token)
    await dev(shop).mark_expired(expired["sessionId"])
    assert error_codes(await shop.verify(expired["sessionId"], token=token)) == []
    orphan = await shop.buy([shop.courses.add_course()], token=token)
    await set_order(shop, orphan["orderId"], provider_session_id=None, created_at=utcnow() - timedelta(hours=2))
    await shop.settle()
    await reconcile(shop.runtime)

    statuses = {r.id: r.status for r in await shop.rows(orders)}
    assert statuses == {
        cancelled["orderId"]: CANCELLED,
        paid["orderId"]: PAID,
        expired["orderId"]: CANCELLED,
        orphan["orderId"]: CANCELLED,
    }
    assert await guard(shop) == set()


def _ids(result: dict[str, Any]) -> dict[str, str]:
    return {"order_id": result["orderId"], "session_id": result["sessionId"]}


async def test_an_order_whose_creator_died_is_superseded(shop: Shop) -> None:
    student = shop.students.add_student(None)
    course = shop.courses.add_course()
    old = await shop.buy([course], student_id=student)
    # The request crashed after inserting the order, before it stored the session id.
    await set_order(shop, old["orderId"], provider_session_id=None, created_at=utcnow() - timedelta(minutes=5))
    new = await shop.buy([course], student_id=student)
    assert new["orderId"] != old["orderId"]
    dead = await order_row(shop, old["orderId"])
    assert (dead.status, dead.provider_session_id) == (CANCELLED, None) and dead.superseded_at is not None
    assert await guard(shop) == {(course, new["orderId"])}


async def test_a_checkout_being_opened_is_waited_for(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    student = shop.students.add_student(None)
    course = shop.courses.add_course()
    first = await shop.buy([course], student_id=student)
    # Another request is still opening the session of this order (it is young and has no session id yet).
    await set_order(shop, first["orderId"], provider_session_id=None)

    monkeypatch.setattr(open_checkout, "WAIT_SECONDS", 0.3)
    body = await shop.checkout([course], student_id=student)
    assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert await shop.count(orders) == 1
    assert await guard(shop) == {(course, first["orderId"])}

    waiting = asyncio.Event()
    still_opening = supersede.store.any_still_opening

    async def observed(*args: Any) -> bool:
        answer = await still_opening(*args)
        waiting.set()  # the new request is waiting for the creator now
        return answer

    monkeypatch.setattr(supersede.store, "any_still_opening", observed)

    async def creator_finishes() -> None:
        await asyncio.wait_for(waiting.wait(), timeout=5)
        await set_order(shop, first["orderId"], provider_session_id=first["sessionId"])

    monkeypatch.setattr(open_checkout, "WAIT_SECONDS", 5.0)
    again, _ = await asyncio.gather(shop.buy([course], student_id=student), creator_finishes())
    assert again == first
    assert await shop.count(orders) == 1


async def test_paying_a_superseded_checkout_still_enrolls_and_is_flagged(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    a = shop.courses.add_course("Algebra", 1000)
    b = shop.courses.add_course("Biology", 2000)
    token = shop.user("double-payer")
    old = await shop.buy([a], token=token)
    new = await shop.buy([a, b], token=token)
    student = shop.students.student_of("double-payer")

    with caplog.at_level(logging.WARNING, logger="byway.plugins.ecommerce"):
        # The provider reports the old session paid after all: the money is taken, so it is fulfilled.
        response = await shop.post_event(event("checkout.session.completed", session_object(**_ids(old), amount=1000)))
        assert response.json()["result"] == "fulfilled"
        await shop.settle()
        (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert "superseded" in warning.getMessage() and old["orderId"] in warning.getMessage()
        assert (await order_row(shop, old["orderId"])).status == PAID
        assert shop.students.enrollments == {(student, a)}
        caplog.clear()

        # The buyer pays the new checkout too: course a is paid twice.
        await shop.press(new["url"], "pay")
        await shop.settle()
        (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert "duplicate payment" in warning.getMessage() and old["orderId"] in warning.getMessage()
    assert shop.students.enrollments == {(student, a), (student, b)}

    summary = await reconcile(shop.runtime)
    flags = {(e["orderId"], e["courseId"]): (e["duplicatePayment"], e["superseded"]) for e in summary["items"]}
    assert flags == {
        (old["orderId"], a): (True, True),
        (new["orderId"], a): (True, False),
        (new["orderId"], b): (False, False),
    }


# --- Stripe (the real SDK against the fake server) ----------------------------------------------


async def test_stripe_same_cart_reuses_and_overlapping_cart_expires(stripe_shop: tuple[Shop, FakeStripe]) -> None:
    shop, fake = stripe_shop
    a = shop.courses.add_course("Algebra", 1000)
    b = shop.courses.add_course("Biology", 2000)
    token = shop.user("stripe-tabs")
    old = await shop.buy([a], token=token)
    assert await shop.buy([a], token=token) == old
    assert (len(fake.create_requests), fake.expire_requests) == (1, [])

    new = await shop.buy([a, b], token=token)
    assert fake.expire_requests == [old["sessionId"]]
    assert fake.sessions[old["sessionId"]]["status"] == "expired"
    assert fake.sessions[new["sessionId"]]["status"] == "open"
    superseded = await order_row(shop, old["orderId"])
    assert superseded.status == CANCELLED and superseded.superseded_at is not None
    assert await shop.buy([a, b], token=token) == new
    assert len(fake.create_requests) == 2


@pytest.mark.parametrize("second_cart", ["same", "overlapping"])
async def test_stripe_old_session_already_paid_refuses_already_enrolled(
    stripe_shop: tuple[Shop, FakeStripe], second_cart: str
) -> None:
    shop, fake = stripe_shop
    a = shop.courses.add_course("Paid already", 1200)
    b = shop.courses.add_course("Something else", 800)
    token = shop.user("paid-in-other-tab")
    old = await shop.buy([a], token=token)
    session = fake.pay(old["sessionId"])  # paid in the other tab; the webhook has not come

    body = await shop.checkout([a] if second_cart == "same" else [b, a], token=token)
    assert error_codes(body) == ["ALREADY_ENROLLED"]
    ext = body["errors"][0]["extensions"]
    assert (ext["courseId"], ext["courseTitle"]) == (a, "Paid already")
    await shop.settle()

    assert await shop.count(orders) == 1  # nothing new
    assert len(fake.create_requests) == 1 and fake.expire_requests == []
    paid = await order_row(shop, old["orderId"])
    assert paid.status == PAID and paid.superseded_at is None
    (payment,) = await shop.rows(payments)
    assert (payment.provider_reference, payment.source, payment.amount_cents) == (
        session["payment_intent"],
        "checkout",
        1200,
    )
    rows = await shop.rows(enrollment_outbox)
    assert [(r.order_id, r.course_id, r.status) for r in rows] == [(old["orderId"], a, OUTBOX_DONE)]
    assert shop.students.enrollments == {(shop.students.student_of("paid-in-other-tab"), a)}
    assert await guard(shop) == set()


async def test_stripe_session_paid_while_being_expired(stripe_shop: tuple[Shop, FakeStripe]) -> None:
    shop, fake = stripe_shop
    a = shop.courses.add_course("Raced", 1000)
    token = shop.user("racer")
    old = await shop.buy([a], token=token)
    fake.pay_before_expire.add(old["sessionId"])  # Stripe answers the expiry: 400, the session is complete
    body = await shop.checkout([a, shop.courses.add_course()], token=token)
    assert error_codes(body) == ["ALREADY_ENROLLED"]
    assert body["errors"][0]["extensions"]["courseId"] == a
    assert fake.expire_requests == [old["sessionId"]]
    assert (await order_row(shop, old["orderId"])).status == PAID
    assert await shop.count(orders) == 1


async def test_stripe_failure_while_closing_the_old_session_creates_nothing(
    stripe_shop: tuple[Shop, FakeStripe],
) -> None:
    shop, fake = stripe_shop
    a = shop.courses.add_course()
    b = shop.courses.add_course()
    token = shop.user("unlucky")
    old = await shop.buy([a], token=token)

    async def nothing_new() -> None:
        assert await shop.count(orders) == 1
        still = await order_row(shop, old["orderId"])
        assert (still.status, still.superseded_at) == (PENDING, None)
        assert await guard(shop) == {(a, old["orderId"])}
        assert len(fake.create_requests) == 1
        assert fake.sessions[old["sessionId"]]["status"] == "open"

    fake.fail_expire = True
    body = await shop.checkout([a, b], token=token)
    assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert body["errors"][0]["extensions"]["orderId"] == old["orderId"]
    assert fake.expire_requests == [old["sessionId"]]
    await nothing_new()

    fake.fail_expire = False
    fake.fail_retrieve = True
    body = await shop.checkout([a, b], token=token)
    assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
    await nothing_new()

    fake.fail_retrieve = False
    new = await shop.buy([a, b], token=token)
    assert (await order_row(shop, old["orderId"])).status == CANCELLED
    assert await guard(shop) == {(a, new["orderId"]), (b, new["orderId"])}


async def test_stripe_payment_still_processing_refuses_with_conflict(stripe_shop: tuple[Shop, FakeStripe]) -> None:
    shop, fake = stripe_shop
    a = shop.courses.add_course("Bank debit", 1000)
    token = shop.user("slow-bank")
    old = await shop.buy([a], token=token)
    fake.complete_unpaid(old["sessionId"])
    body = await shop.checkout([a], token=token)
    assert error_codes(body) == ["CONFLICT"]
    assert body["errors"][0]["extensions"]["courseId"] == a
    assert fake.expire_requests == [] and len(fake.create_requests) == 1
    assert (await order_row(shop, old["orderId"])).status == PENDING


# --- concurrency (SQLite and Postgres) ----------------------------------------------------------


async def test_concurrent_checkouts_of_one_course_share_one_order(byway_settings: Settings, database_url: str) -> None:
    async with open_shop(byway_settings.with_overrides(database_url=database_url)) as shop:
        shop.students.add_student("double-clicker")
        token = shop.user("double-clicker")
        course = shop.courses.add_course()
        answers = await asyncio.gather(*(shop.checkout([course], token=token) for _ in range(CONCURRENT)))

        assert all("errors" not in a for a in answers), answers
        results = {tuple(sorted(a["data"]["createCheckout"].items())) for a in answers}
        assert len(results) == 1
        (result,) = [dict(r) for r in results]
        (order,) = await shop.rows(orders)  # the losers rolled back: one order row at all
        assert (order.id, order.status, order.provider_session_id) == (
            result["orderId"],
            PENDING,
            result["sessionId"],
        )
        assert await shop.count(dev_sessions) == 1
        assert await guard(shop) == {(course, order.id)}


async def test_concurrent_overlapping_carts_leave_one_live_checkout(
    byway_settings: Settings, database_url: str
) -> None:
    async with open_shop(byway_settings.with_overrides(database_url=database_url)) as shop:
        student = shop.students.add_student(None)
        a, b = shop.courses.add_course(), shop.courses.add_course()
        carts = [[a], [b, a]] * (CONCURRENT // 2)
        answers = await asyncio.gather(*(shop.checkout(cart, student_id=student) for cart in carts))

        assert all("errors" not in answer for answer in answers), [a["errors"] for a in answers if "errors" in a]
        (live,) = await shop.rows(orders, orders.c.status == PENDING)
        (open_session,) = await shop.rows(dev_sessions, dev_sessions.c.status == "open")
        assert open_session.order_id == live.id
        assert live.provider_session_id in {answer["data"]["createCheckout"]["sessionId"] for answer in answers}
        # Every other checkout is closed: its order CANCELLED (superseded, or cancelled by a racer that
        # saw its session already expired) and its session expired.
        others = await shop.rows(orders, orders.c.id != live.id)
        assert others and {o.status for o in others} == {CANCELLED}
        closed = await shop.rows(dev_sessions, dev_sessions.c.order_id != live.id)
        assert len(closed) == len(others) and {s.status for s in closed} == {"expired"}
        held = {row.course_id for row in await shop.rows(order_items, order_items.c.order_id == live.id)}
        assert await guard(shop) == {(c, live.id) for c in held}
