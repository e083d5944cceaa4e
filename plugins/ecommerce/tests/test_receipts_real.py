"""A receipt through the real notifications plugin to a real SMTP server (aiosmtpd), notifications down first."""

from __future__ import annotations

from typing import Any

from byway_ecommerce import emails
from byway_ecommerce import plugin as ecommerce_plugin
from byway_ecommerce.models import EMAIL_PENDING, EMAIL_SENT, email_outbox
from byway_notifications import plugin as notifications_plugin
from byway_notifications.testing import SmtpSink
from ecommerce_fakes import FakeCourses, FakeStudents
from ecommerce_shop import TEST_CONFIG, Shop, event, eventually, session_object

from byway.settings import Settings
from byway.testing import running_app

NOTIFICATIONS = {"deliver_interval_seconds": 0.05, "retry_base_seconds": 0.05, "retry_max_seconds": 0.2}


async def received(smtp: SmtpSink, count: int, seconds: float = 10.0) -> list[Any]:
    """What the SMTP server received, once it holds ``count`` messages (or ``seconds`` passed)."""

    async def arrived() -> bool:
        return len(smtp.received) >= count

    await eventually(arrived, seconds)
    return list(smtp.received)


async def test_a_paid_order_sends_its_receipt_through_notifications(byway_settings: Settings) -> None:
    with SmtpSink() as smtp:
        settings = byway_settings.with_overrides(
            public_base_url="https://shop.example",
            plugins={"ecommerce": TEST_CONFIG, "notifications": {**NOTIFICATIONS, "smtp_url": smtp.url}},
        )
        students, courses = FakeStudents(), FakeCourses()
        async with running_app([ecommerce_plugin, students, courses, notifications_plugin], settings) as app:
            shop = Shop(app, students, courses)
            course = courses.add_course("Real Mail", 3100)
            result = await shop.buy([course], token=shop.user("mailed"), email="mailed@example.org")
            obj = session_object(result["orderId"], result["sessionId"], amount=3100)
            assert (await shop.post_event(event("checkout.session.completed", obj))).json()["result"] == "fulfilled"
            await shop.settle()
            await emails.drain(shop.runtime)
            (row,) = await shop.rows(email_outbox)
            assert row.status == EMAIL_SENT

            (message,) = await received(smtp, 1)
            assert message.rcpt_tos == ("mailed@example.org",)
            assert result["orderId"] in message.header("Subject")
            assert f"https://shop.example/courses/{course}" in message.part("plain")
            assert "https://shop.example/my/orders" in message.part("html")
            assert students.enrollments == {(students.student_of("mailed"), course)}
            assert row.status != EMAIL_PENDING
