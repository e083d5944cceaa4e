"""The enrollment outbox: nothing paid is lost while students-internal is down, across restarts."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from byway_ecommerce import outbox
from byway_ecommerce.models import (
    OUTBOX_DONE,
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    OUTBOX_REVOKE_PENDING,
    OUTBOX_REVOKED,
    PAID,
    enrollment_outbox,
    orders,
)
from ecommerce_fakes import FakeCourses, FakeStudents
from ecommerce_shop import Shop, event, eventually, open_shop, session_object

from byway.db import utcnow
from byway.settings import Settings
from byway.testing import FailingTransport

ADMIN_TOKEN = "admin-token-for-tests-0123456789"
ORDERS = 100
STUDENTS = 10


def paid(result: dict[str, Any], amount: int, payment_intent: str | None = None) -> dict[str, Any]:
    obj = session_object(result["orderId"], result["sessionId"], amount=amount, payment_intent=payment_intent)
    return event("checkout.session.completed", obj)


async def test_nothing_is_lost_over_100_orders_while_students_internal_is_down(byway_settings: Settings) -> None:
    students, courses = FakeStudents(), FakeCourses()
    settings = byway_settings
    expected: set[tuple[str, str]] = set()
    async with open_shop(settings, students, courses, admin_token=ADMIN_TOKEN, outbox_backoff_seconds=60) as shop:
        buyers = [students.add_student(None) for _ in range(STUDENTS)]
        carts = []
        for i in range(ORDERS):
            cart = [courses.add_course(f"C{i}", 1000)] + ([courses.add_course(f"D{i}", 500)] if i % 3 == 0 else [])
            carts.append((buyers[i % STUDENTS], cart))
            expected.update((buyers[i % STUDENTS], c) for c in cart)
        results = []
        for start in range(0, ORDERS, 20):
            batch = carts[start : start + 20]
            results += await asyncio.gather(*(shop.buy(cart, student_id=student) for student, cart in batch))

        host = shop.app.host
        with host.override_transport("students-internal", FailingTransport(host.transport_for("students-internal"))):
            for start in range(0, ORDERS, 20):
                batch = list(zip(results[start : start + 20], carts[start : start + 20], strict=True))
                responses = await asyncio.gather(
                    *(shop.post_event(paid(r, 1000 + 500 * (len(cart) - 1))) for r, (_, cart) in batch)
                )
                assert {resp.json()["result"] for resp in responses} == {"fulfilled"}
            await shop.settle()

        assert await shop.count(orders, orders.c.status == PAID) == ORDERS
        rows = await shop.rows(enrollment_outbox)
        assert len(rows) == len(expected)
        assert {r.status for r in rows} == {OUTBOX_PENDING}
        assert all(r.attempts == 1 and r.last_error and r.claim_token is None for r in rows)
        assert students.enrollments == set()

    # A restart: the rows are in the database, not in memory.
    async with open_shop(settings, students, courses, admin_token=ADMIN_TOKEN) as shop:
        assert await shop.count(enrollment_outbox, enrollment_outbox.c.status == OUTBOX_PENDING) == len(expected)
        response = await shop.app.client.post("/api/ecommerce/reconcile", headers={"X-Byway-Admin-Token": ADMIN_TOKEN})
        assert response.status_code == 200
        summary = response.json()
        assert summary["ok"] is True
        assert summary["requeued"] == len(expected)
        assert summary["outbox"] == {OUTBOX_DONE: len(expected)}
        assert len(summary["items"]) == len(expected)
        assert {item["action"] for item in summary["items"]} == {"redriven"}
        assert await shop.count(enrollment_outbox, enrollment_outbox.c.status == OUTBOX_DONE) == len(expected)
    assert students.enrollments == expected
    assert sorted(students.enroll_calls) == sorted(expected)


async def test_worker_job_delivers_once_students_internal_recovers(byway_settings: Settings) -> None:
    async with open_shop(byway_settings, outbox_interval_seconds=0.05, outbox_backoff_seconds=0.05) as shop:
        course = shop.courses.add_course()
        result = await shop.buy([course], token=shop.user("patient"))
        shop.students.fail_writes = True
        await shop.post_event(paid(result, 1000))

        async def attempted() -> bool:
            return (await shop.rows(enrollment_outbox))[0].last_error is not None

        assert await eventually(attempted)
        (row,) = await shop.rows(enrollment_outbox)
        assert row.status == OUTBOX_PENDING and "UPSTREAM_UNAVAILABLE" in row.last_error

        shop.students.fail_writes = False

        async def delivered() -> bool:
            return (await shop.rows(enrollment_outbox))[0].status == OUTBOX_DONE

        assert await eventually(delivered)
        (row,) = await shop.rows(enrollment_outbox)
        assert row.last_error is None
        assert shop.students.enrollments == {(shop.students.student_of("patient"), course)}


async def test_backoff_then_failed_after_max_attempts_with_an_error_log(
    byway_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_shop(byway_settings, outbox_max_attempts=3, outbox_backoff_seconds=30) as shop:
        course = shop.courses.add_course()
        result = await shop.buy([course], token=shop.user())
        shop.students.fail_writes = True
        await shop.post_event(paid(result, 1000))
        await shop.settle()
        (row,) = await shop.rows(enrollment_outbox)
        assert row.attempts == 1
        assert timedelta(seconds=25) < row.next_attempt_at - utcnow() <= timedelta(seconds=30)
        report = await outbox.drain(shop.runtime)  # not due yet: nothing happens
        assert (report.delivered, report.retrying, report.failed) == (0, 0, 0)

        with caplog.at_level(logging.ERROR, logger="byway.plugins.ecommerce"):
            await make_due(shop)
            await outbox.drain(shop.runtime)
            (row,) = await shop.rows(enrollment_outbox)
            assert (row.status, row.attempts) == (OUTBOX_PENDING, 2)
            assert timedelta(seconds=55) < row.next_attempt_at - utcnow() <= timedelta(seconds=60)  # doubled
            await make_due(shop)
            await outbox.drain(shop.runtime)
            (row,) = await shop.rows(enrollment_outbox)
        assert (row.status, row.attempts) == (OUTBOX_FAILED, 3)
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1 and "failed after 3 attempts" in errors[0].getMessage()
        assert course in errors[0].getMessage()

        # Failed rows wait for reconcile, not for the worker.
        await outbox.drain(shop.runtime)
        assert shop.students.enrollments == set()
        shop.students.fail_writes = False
        admin = shop.user("admin", ("student", "admin"))
        response = await shop.app.client.post("/api/ecommerce/reconcile", headers={"Authorization": f"Bearer {admin}"})
        assert response.json()["ok"] is True
        (row,) = await shop.rows(enrollment_outbox)
        assert row.status == OUTBOX_DONE
        assert len(shop.students.enrollments) == 1


async def make_due(shop: Shop) -> None:
    async with shop.runtime.sessions() as session, session.begin():
        await session.execute(enrollment_outbox.update().values(next_attempt_at=utcnow() - timedelta(seconds=1)))


async def test_a_dead_workers_claim_is_taken_over_after_its_lease(shop: Shop) -> None:
    course = shop.courses.add_course()
    result = await shop.buy([course], token=shop.user("lease"))
    shop.students.fail_writes = True
    await shop.post_event(paid(result, 1000))
    await shop.settle()
    shop.students.fail_writes = False
    await make_due(shop)

    (claimed,) = await outbox.claim(shop.runtime)  # a worker claims the row, then dies
    assert await outbox.claim(shop.runtime) == []  # nobody else may take it during the lease
    assert (await outbox.drain(shop.runtime)).delivered == 0
    await make_due(shop)  # the lease ends
    report = await outbox.drain(shop.runtime)
    assert report.delivered == 1
    (row,) = await shop.rows(enrollment_outbox)
    assert (row.status, row.attempts, row.claim_token) == (OUTBOX_DONE, 3, None)
    # The dead worker coming back cannot overwrite the outcome.
    assert await outbox.deliver(shop.runtime, claimed) == "lost_claim"
    assert len(shop.students.enrollments) == 1


async def test_refund_during_an_enrollment_in_flight_revokes_after_it(shop: Shop) -> None:
    course = shop.courses.add_course()
    result = await shop.buy([course], token=shop.user("refund"))
    shop.students.fail_writes = True
    await shop.post_event(paid(result, 1000, payment_intent="pi_inflight"))
    await shop.settle()
    shop.students.fail_writes = False
    await make_due(shop)
    (claimed,) = await outbox.claim(shop.runtime)  # an enrollment call is in flight...

    charge = {"id": "ch_x", "object": "charge", "payment_intent": "pi_inflight", "amount": 1000, "refunded": True}
    response = await shop.post_event(event("charge.refunded", charge))  # ...when the refund arrives
    assert response.json()["result"] == "refunded"
    await shop.settle()
    (row,) = await shop.rows(enrollment_outbox)
    assert row.status == OUTBOX_REVOKE_PENDING
    assert row.next_attempt_at > utcnow()  # waits for the in-flight call's lease
    assert shop.students.revoke_calls == []

    assert await outbox.deliver(shop.runtime, claimed) == "lost_claim"  # the enrollment lands late
    assert len(shop.students.enrollments) == 1
    await make_due(shop)
    await outbox.drain(shop.runtime)
    (row,) = await shop.rows(enrollment_outbox)
    assert row.status == OUTBOX_REVOKED
    assert shop.students.enrollments == set()


async def test_concurrent_workers_deliver_each_row_once(byway_settings: Settings, database_url: str) -> None:
    """Several workers (or hosts) draining at once: every row is claimed by exactly one of them."""
    settings = byway_settings.with_overrides(database_url=database_url)
    async with open_shop(settings, outbox_batch_size=3, outbox_backoff_seconds=3600) as shop:
        student = shop.students.add_student(None)
        course_ids = [shop.courses.add_course(f"W{i}", 100) for i in range(12)]
        result = await shop.buy(course_ids, student_id=student)
        shop.students.fail_writes = True
        await shop.post_event(paid(result, 1200))
        await shop.settle()
        shop.students.fail_writes = False
        shop.students.enroll_calls.clear()
        await make_due(shop)

        reports = await asyncio.gather(*(outbox.drain(shop.runtime) for _ in range(4)))
        assert sum(r.delivered for r in reports) == len(course_ids)
        assert sorted(shop.students.enroll_calls) == sorted((student, c) for c in course_ids)
        assert {r.status for r in await shop.rows(enrollment_outbox)} == {OUTBOX_DONE}
