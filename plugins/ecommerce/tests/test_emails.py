"""Receipts and refund notices (issue 9): ecommerce's own outbox, sent through ``notifications.sendEmail``."""

from __future__ import annotations

from typing import Any

from byway_ecommerce import emails
from byway_ecommerce.models import (
    EMAIL_PENDING,
    EMAIL_SENT,
    EMAIL_SKIPPED,
    OUTBOX_DONE,
    email_outbox,
    enrollment_outbox,
)
from byway_ecommerce.state import public_url
from ecommerce_fakes import FakeAuthentication, FakeNotifications
from ecommerce_shop import event, open_shop, session_object

from byway.settings import Settings


def paid(result: dict[str, Any], amount: int, pi: str | None = None) -> dict[str, Any]:
    obj = session_object(result["orderId"], result["sessionId"], amount=amount, payment_intent=pi)
    return event("checkout.session.completed", obj)


async def test_a_paid_order_gets_one_receipt_with_links(byway_settings: Settings) -> None:
    mail = FakeNotifications()
    async with open_shop(byway_settings, extra_plugins=[mail]) as shop:
        course = shop.courses.add_course("Receipts 101", 2500)
        result = await shop.buy([course], token=shop.user("payer"), email="payer@example.org")
        first = paid(result, 2500, pi="pi_receipt")
        assert (await shop.post_event(first)).json()["result"] == "fulfilled"
        await shop.settle()
        await shop.post_event(first)  # redelivered: still one receipt
        await emails.drain(shop.runtime)

        (message,) = mail.messages
        assert message["to"] == "payer@example.org" and message["sender"] == "ecommerce"
        assert message["key"] == f"ecommerce-receipt-{result['orderId']}"
        assert result["orderId"] in message["subject"]
        base = public_url(shop.runtime)
        assert base.startswith("http")
        assert f"Receipts 101: 25.00 USD\n  {base}/courses/{course}" in message["text"]
        assert f"{base}/my/orders" in message["text"] and f"href='{base}/courses/{course}'" in message["html"]
        (row,) = await shop.rows(email_outbox)
        assert (row.status, row.attempts, row.claim_token, row.claimed_by) == (EMAIL_SENT, 1, None, None)

        # A full refund: the notice follows, once.
        charge = {"id": "ch_r", "object": "charge", "payment_intent": "pi_receipt", "amount": 2500, "refunded": True}
        assert (await shop.post_event(event("charge.refunded", charge))).json()["result"] == "refunded"
        await shop.settle()
        await emails.drain(shop.runtime)
        assert [m["key"] for m in mail.messages] == [
            f"ecommerce-receipt-{result['orderId']}",
            f"ecommerce-refund-{result['orderId']}",
        ]
        assert "refunded" in mail.messages[1]["text"]


async def test_the_account_email_is_used_when_the_order_has_none(byway_settings: Settings) -> None:
    mail, users = FakeNotifications(), FakeAuthentication()
    users.emails["reader"] = "reader@example.org"
    async with open_shop(byway_settings, extra_plugins=[mail, users]) as shop:
        course = shop.courses.add_course()
        result = await shop.buy([course], token=shop.user("reader"))
        await shop.post_event(paid(result, 1000))
        await shop.settle()
        await emails.drain(shop.runtime)
        assert [m["to"] for m in mail.messages] == ["reader@example.org"]

        # A student with no user and no email given: nothing to send to, the row says so.
        student = shop.students.add_student(None)
        other = await shop.buy([shop.courses.add_course()], student_id=student)
        await shop.post_event(paid(other, 1000))
        await shop.settle()
        await emails.drain(shop.runtime)
        (skipped,) = await shop.rows(email_outbox, email_outbox.c.order_id == other["orderId"])
        assert skipped.status == EMAIL_SKIPPED
        assert len(mail.messages) == 1


async def test_enrollment_does_not_wait_for_a_down_notifications_plugin(byway_settings: Settings) -> None:
    mail = FakeNotifications()
    mail.fail_all = True
    async with open_shop(byway_settings, extra_plugins=[mail], outbox_backoff_seconds=0.01) as shop:
        course = shop.courses.add_course()
        result = await shop.buy([course], token=shop.user("patient"), email="patient@example.org")
        await shop.post_event(paid(result, 1000))
        await shop.settle()
        assert {r.status for r in await shop.rows(enrollment_outbox)} == {OUTBOX_DONE}
        assert shop.students.enrollments == {(shop.students.student_of("patient"), course)}
        (row,) = await shop.rows(email_outbox)
        assert row.status == EMAIL_PENDING and "UPSTREAM_UNAVAILABLE" in row.last_error and mail.calls == 1
        assert mail.messages == []

        mail.fail_all = False  # it is back: the receipt follows
        async with shop.runtime.sessions() as session, session.begin():
            await session.execute(email_outbox.update().values(next_attempt_at=row.created_at))
        assert await emails.drain(shop.runtime) == 1
        assert [m["to"] for m in mail.messages] == ["patient@example.org"]


async def test_without_a_notifications_plugin_nothing_is_queued(byway_settings: Settings) -> None:
    async with open_shop(byway_settings) as shop:
        assert not shop.runtime.knows("notifications")
        course = shop.courses.add_course()
        result = await shop.buy([course], token=shop.user("quiet"), email="quiet@example.org")
        assert (await shop.post_event(paid(result, 1000))).json()["result"] == "fulfilled"
        await shop.settle()
        assert await shop.count(email_outbox) == 0
        assert shop.students.enrollments == {(shop.students.student_of("quiet"), course)}
