"""Webhook and redirect racing: one Payment, one enrollment per item, PAID once (SQLite and Postgres)."""

from __future__ import annotations

import asyncio

from byway_ecommerce.dev_provider import DevProvider
from byway_ecommerce.models import OUTBOX_DONE, PAID, enrollment_outbox, orders, payments, processed_events
from byway_ecommerce.state import state_of
from ecommerce_shop import VERIFY_MUTATION, event, open_shop

from byway.settings import Settings

DELIVERIES = 20
VERIFIERS = 5


async def test_same_event_20_times_while_verify_races(byway_settings: Settings, database_url: str) -> None:
    async with open_shop(byway_settings.with_overrides(database_url=database_url)) as shop:
        course_ids = [shop.courses.add_course(f"Course {i}", 1000 * (i + 1)) for i in range(3)]
        token = shop.user("racer")
        result = await shop.buy(course_ids, token=token)
        provider = state_of(shop.runtime).provider
        assert isinstance(provider, DevProvider)
        # The buyer paid: the provider knows it (verifyCheckout will see it) and the event is on its way.
        paid_session, _ = await provider.mark_paid(result["sessionId"])
        assert paid_session is not None
        paid = event("checkout.session.completed", paid_session.raw)

        webhooks = [shop.post_event(paid) for _ in range(DELIVERIES)]
        verifies = [
            shop.app.gql("ecommerce", VERIFY_MUTATION, {"s": result["sessionId"]}, token=token)
            for _ in range(VERIFIERS)
        ]
        answers = await asyncio.gather(*webhooks, *verifies)
        await shop.settle()

        responses, verified = answers[:DELIVERIES], answers[DELIVERIES:]
        assert {r.status_code for r in responses} == {200}
        outcomes = [r.json()["result"] for r in responses]
        # The event is applied once; whether it or a verifyCheckout won the order, nobody else did.
        assert outcomes.count("duplicate") >= DELIVERIES - 1
        assert outcomes.count("fulfilled") <= 1
        assert all("errors" not in v for v in verified), verified
        assert {v["data"]["verifyCheckout"]["status"] for v in verified} == {PAID}

        (order,) = await shop.rows(orders)
        assert order.status == PAID
        assert await shop.count(payments) == 1
        assert await shop.count(processed_events) == 1
        rows = await shop.rows(enrollment_outbox)
        assert len(rows) == len(course_ids)
        assert {r.status for r in rows} == {OUTBOX_DONE}
        student = shop.students.student_of("racer")
        # Exactly one enrollStudent per item, whichever worker (webhook wake-up or verify) delivered it.
        assert sorted(shop.students.enroll_calls) == sorted((student, c) for c in course_ids)

        final = await shop.verify(result["sessionId"], token=token)
        assert final["data"]["verifyCheckout"] == {"ok": True, "orderId": result["orderId"], "status": PAID}
