"""verifyCheckout: who may ask, and how it completes a paid order the webhook has not reached yet."""

from __future__ import annotations

from byway_ecommerce.dev_provider import DevProvider
from byway_ecommerce.models import CANCELLED, OUTBOX_DONE, OUTBOX_PENDING, PAID, PENDING, enrollment_outbox, payments
from byway_ecommerce.state import state_of
from ecommerce_shop import VERIFY_MUTATION, Shop, event

from byway.testing import error_codes


def dev(shop: Shop) -> DevProvider:
    provider = state_of(shop.runtime).provider
    assert isinstance(provider, DevProvider)
    return provider


async def test_verify_fulfils_a_paid_session_without_a_webhook(shop: Shop) -> None:
    courses = [shop.courses.add_course(price=1000), shop.courses.add_course(price=2000)]
    token = shop.user("redirected")
    result = await shop.buy(courses, token=token)

    body = await shop.verify(result["sessionId"], token=token)
    assert body["data"]["verifyCheckout"] == {"ok": False, "orderId": result["orderId"], "status": PENDING}
    assert await shop.count(payments) == 0

    await dev(shop).mark_paid(result["sessionId"])  # paid, but the webhook is lost
    body = await shop.verify(result["sessionId"], token=token)
    assert body["data"]["verifyCheckout"] == {"ok": True, "orderId": result["orderId"], "status": PAID}
    (payment,) = await shop.rows(payments)
    assert (payment.source, payment.amount_cents, payment.event_id) == ("verify", 3000, None)
    assert payment.provider_reference.startswith("pi_dev_")
    student = shop.students.student_of("redirected")
    assert shop.students.enrollments == {(student, c) for c in courses}

    # The webhook arriving afterwards changes nothing.
    paid_session = await dev(shop).retrieve_session(result["sessionId"])
    assert paid_session is not None
    response = await shop.post_event(event("checkout.session.completed", paid_session.raw))
    assert response.json()["result"] == "already_paid"
    await shop.settle()
    assert await shop.count(payments) == 1
    assert len(shop.students.enroll_calls) == 2


async def test_verify_is_not_ok_until_enrollments_exist(shop: Shop) -> None:
    course = shop.courses.add_course()
    result = await shop.buy([course], token=shop.user("waiting"))
    await dev(shop).mark_paid(result["sessionId"])
    shop.students.fail_writes = True
    body = await shop.verify(result["sessionId"])
    assert body["data"]["verifyCheckout"] == {"ok": False, "orderId": result["orderId"], "status": PAID}
    (row,) = await shop.rows(enrollment_outbox)
    assert row.status == OUTBOX_PENDING

    shop.students.fail_writes = False
    async with shop.runtime.sessions() as session, session.begin():
        await session.execute(enrollment_outbox.update().values(next_attempt_at=row.created_at))
    body = await shop.verify(result["sessionId"])
    assert body["data"]["verifyCheckout"]["ok"] is True
    (row,) = await shop.rows(enrollment_outbox)
    assert row.status == OUTBOX_DONE


async def test_verify_cancels_an_expired_session(shop: Shop) -> None:
    course = shop.courses.add_course()
    result = await shop.buy([course], token=shop.user())
    await dev(shop).mark_expired(result["sessionId"])
    body = await shop.app.gql("ecommerce", VERIFY_MUTATION, {"s": result["sessionId"]})
    assert body["data"]["verifyCheckout"] == {"ok": False, "orderId": result["orderId"], "status": CANCELLED}


async def test_who_may_verify(shop: Shop) -> None:
    course = shop.courses.add_course()
    result = await shop.buy([course], token=shop.user("owner"))
    session_id = result["sessionId"]

    assert "errors" not in await shop.verify(session_id, token=shop.user("owner"))
    # The session id is a capability: an anonymous holder (the buyer's success page) may ask.
    assert "errors" not in await shop.verify(session_id)
    assert "errors" not in await shop.verify(session_id, token=shop.user("boss", ("student", "admin")))
    assert "errors" not in await shop.verify(session_id, token=shop.app.host.tokens.service_token("teach"))
    assert error_codes(await shop.verify(session_id, token=shop.user("stranger"))) == ["FORBIDDEN"]
    assert error_codes(await shop.verify("cs_dev_unknown")) == ["NOT_FOUND"]
    assert error_codes(await shop.verify("x" * 300)) == ["BAD_USER_INPUT"]
    body = await shop.app.gql("ecommerce", VERIFY_MUTATION, {"s": session_id}, token="not-a-jwt")
    assert error_codes(body) == ["UNAUTHENTICATED"]
