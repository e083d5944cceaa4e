"""Tests that notice a broken core (issue 10): each fails if the mechanism it names is taken away.

* the webhook's event id and its effect share ONE transaction;
* reconcile recreates a lost outbox row;
* ``UNIQUE(payments.provider_reference)``;
* ``FOR UPDATE SKIP LOCKED``: a claimer skips the rows another transaction holds (Postgres);
* a 500-row backlog drained by two hosts on one Postgres: every enrollment made exactly once;
* a restarted server frees the claims of its dead predecessor at once (not after the lease);
* the dev provider retries an event the webhook did not accept.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from byway_ecommerce import dev_deliveries, outbox
from byway_ecommerce import webhook as webhook_module
from byway_ecommerce.leases import process_id
from byway_ecommerce.models import (
    DELIVERY_DONE,
    DELIVERY_PENDING,
    OUTBOX_DONE,
    OUTBOX_PENDING,
    PAID,
    PENDING,
    REFUNDED,
    enrollment_outbox,
    order_items,
    orders,
    payments,
    processed_events,
)
from byway_ecommerce.models import (
    dev_deliveries as dev_deliveries_table,
)
from ecommerce_fakes import FakeCourses, FakeStudents
from ecommerce_shop import Shop, event, eventually, open_shop, session_object
from sqlalchemy import insert, inspect, select

from byway.db import new_id, utcnow
from byway.settings import Settings

_box = enrollment_outbox.c


def paid(result: dict[str, Any], amount: int, pi: str | None = None) -> dict[str, Any]:
    obj = session_object(result["orderId"], result["sessionId"], amount=amount, payment_intent=pi)
    return event("checkout.session.completed", obj)


async def make_due(shop: Shop) -> None:
    async with shop.runtime.sessions() as session, session.begin():
        await session.execute(enrollment_outbox.update().values(next_attempt_at=utcnow() - timedelta(seconds=1)))


async def test_an_event_whose_effect_failed_is_not_recorded_so_its_redelivery_applies(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = await shop.buy([shop.courses.add_course()], token=shop.user("crashy"))
    delivery = paid(result, 1000)

    async def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the process died between recording the event and applying it")

    monkeypatch.setattr(webhook_module, "fulfil_in", crash)
    response = await shop.post_event(delivery)
    assert response.status_code == 500
    assert await shop.count(processed_events) == 0  # rolled back with the failed effect
    assert (await shop.rows(orders))[0].status == PENDING

    monkeypatch.undo()
    assert (await shop.post_event(delivery)).json()["result"] == "fulfilled"  # Stripe's retry
    assert await shop.count(processed_events) == 1
    assert (await shop.rows(orders))[0].status == PAID


async def test_reconcile_recreates_a_lost_outbox_row(shop: Shop) -> None:
    course = shop.courses.add_course()
    result = await shop.buy([course], token=shop.user("lost-row"))
    await shop.post_event(paid(result, 1000))
    await shop.settle()
    student = shop.students.student_of("lost-row")
    async with shop.runtime.sessions() as session, session.begin():
        await session.execute(enrollment_outbox.delete())  # e.g. a bad manual cleanup
    shop.students.enrollments.clear()

    admin = shop.user("admin", ("student", "admin"))
    summary = (
        await shop.app.client.post("/api/ecommerce/reconcile", headers={"Authorization": f"Bearer {admin}"})
    ).json()
    assert summary["reenrolled"] == 1 and summary["ok"] is True
    (row,) = await shop.rows(enrollment_outbox)
    assert (row.order_id, row.course_id, row.status) == (result["orderId"], course, OUTBOX_DONE)
    assert shop.students.enrollments == {(student, course)}


async def test_one_payment_per_provider_reference(shop: Shop) -> None:
    first = await shop.buy([shop.courses.add_course()], token=shop.user("p1"))
    second = await shop.buy([shop.courses.add_course()], token=shop.user("p2"))
    await shop.post_event(paid(first, 1000, pi="pi_shared"))
    await shop.post_event(paid(second, 1000, pi="pi_shared"))  # a reused PaymentIntent
    (payment,) = await shop.rows(payments)
    assert payment.order_id == first["orderId"]
    charge = {"id": "ch_s", "object": "charge", "payment_intent": "pi_shared", "amount": 1000, "refunded": True}
    await shop.post_event(event("charge.refunded", charge))
    statuses = {r.id: r.status for r in await shop.rows(orders)}
    assert statuses[first["orderId"]] == REFUNDED and statuses[second["orderId"]] == PAID

    def unique_columns(connection: Any) -> list[list[str]]:
        inspector = inspect(connection)
        found = [c["column_names"] for c in inspector.get_unique_constraints("payments")]
        found += [i["column_names"] for i in inspector.get_indexes("payments") if i.get("unique")]
        return found

    async with shop.runtime.db.engine.connect() as connection:
        assert ["provider_reference"] in await connection.run_sync(unique_columns)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_claimer_skips_rows_another_transaction_holds(byway_settings: Settings, database_url: str) -> None:
    async with open_shop(byway_settings.with_overrides(database_url=database_url)) as shop:
        student = shop.students.add_student(None)
        courses = [shop.courses.add_course(f"L{i}", 100) for i in range(6)]
        result = await shop.buy(courses, student_id=student)
        shop.students.fail_writes = True
        await shop.post_event(paid(result, 600))
        await shop.settle()
        shop.students.fail_writes = False
        await make_due(shop)
        every = {r.id for r in await shop.rows(enrollment_outbox)}

        async with shop.runtime.sessions() as holder, holder.begin():
            held = set(
                (
                    await holder.execute(
                        select(_box.id).order_by(_box.next_attempt_at, _box.id).limit(3).with_for_update()
                    )
                ).scalars()
            )
            # Without SKIP LOCKED this claim would wait for the holder (and time out here).
            claimed = await asyncio.wait_for(outbox.claim(shop.runtime), timeout=10)
            assert {r.id for r in claimed} == every - held
        # Released, the held rows are the only ones still due (the others are under their lease).
        assert {r.id for r in await outbox.claim(shop.runtime)} == held
        await make_due(shop)
        assert {r.id for r in await outbox.claim(shop.runtime)} == every  # leases over: all due again


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_hosts_drain_a_500_row_backlog_each_enrollment_once(
    byway_settings: Settings, database_url: str
) -> None:
    settings = byway_settings.with_overrides(database_url=database_url)
    students, courses = FakeStudents(), FakeCourses()
    expected: list[tuple[str, str]] = []
    async with (
        open_shop(settings, students, courses, outbox_batch_size=20) as one,
        open_shop(settings, students, courses, outbox_batch_size=20) as two,
    ):
        now = utcnow()
        async with one.runtime.sessions() as session, session.begin():
            for s in range(50):
                student = students.add_student(None)
                for c in range(10):
                    order_id, item_id, course = new_id(), new_id(), f"crs_{s}_{c}"
                    common = {"created_at": now, "updated_at": now}
                    await session.execute(
                        insert(orders).values(
                            id=order_id,
                            student_id=student,
                            status=PAID,
                            total_cents=100,
                            currency="USD",
                            provider="dev",
                            success_url="https://x.example",
                            cancel_url="https://x.example",
                            paid_at=now,
                            **common,
                        )
                    )
                    await session.execute(
                        insert(order_items).values(
                            id=item_id,
                            order_id=order_id,
                            course_id=course,
                            title=course,
                            price_cents=100,
                            currency="USD",
                            position=0,
                        )
                    )
                    await session.execute(
                        insert(enrollment_outbox).values(
                            id=new_id(),
                            order_id=order_id,
                            order_item_id=item_id,
                            student_id=student,
                            course_id=course,
                            status=OUTBOX_PENDING,
                            attempts=0,
                            next_attempt_at=now,
                            **common,
                        )
                    )
                    expected.append((student, course))
        reports = await asyncio.gather(
            outbox.drain(one.runtime), outbox.drain(two.runtime), outbox.drain(one.runtime), outbox.drain(two.runtime)
        )
        assert sum(r.delivered for r in reports) == 500
        assert reports[0].delivered + reports[2].delivered > 0 and reports[1].delivered + reports[3].delivered > 0
        assert sorted(students.enroll_calls) == sorted(expected)  # each exactly once
        assert {r.status for r in await one.rows(enrollment_outbox)} == {OUTBOX_DONE}


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


async def test_a_restarted_server_frees_its_dead_predecessors_claims_at_once(byway_settings: Settings) -> None:
    students, courses = FakeStudents(), FakeCourses()
    async with open_shop(byway_settings, students, courses) as shop:
        course = courses.add_course()
        result = await shop.buy([course], token=shop.user("killed"))
        students.fail_writes = True
        await shop.post_event(paid(result, 1000))
        await shop.settle()
        students.fail_writes = False
        other = await shop.buy([courses.add_course()], token=shop.user("alive"))
        students.fail_writes = True
        await shop.post_event(paid(other, 1000))
        await shop.settle()
        students.fail_writes = False
        host = socket.gethostname()
        lease_end = utcnow() + timedelta(seconds=120)
        async with shop.runtime.sessions() as session, session.begin():
            # A dead process of this host holds one row; a live one (pid 1) holds the other.
            for order_id, owner in (
                (result["orderId"], f"{host}:{_dead_pid()}:dead"),
                (other["orderId"], f"{host}:1:live"),
            ):
                await session.execute(
                    enrollment_outbox.update()
                    .where(_box.order_id == order_id)
                    .values(claim_token=new_id(), claimed_by=owner, next_attempt_at=lease_end)
                )

    async with open_shop(byway_settings, students, courses) as shop:

        async def delivered() -> bool:
            rows = await shop.rows(enrollment_outbox, _box.order_id == result["orderId"])
            return rows[0].status == OUTBOX_DONE

        assert await eventually(delivered, seconds=10)
        (kept,) = await shop.rows(enrollment_outbox, _box.order_id == other["orderId"])
        assert kept.status == OUTBOX_PENDING and kept.claimed_by == f"{host}:1:live"  # alive: left to its lease
        assert students.enrollments == {(students.student_of("killed"), course)}


async def test_the_dev_provider_retries_an_event_the_webhook_refused(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = await shop.buy([shop.courses.add_course()], token=shop.user("retry"))

    async def unavailable(*args: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        return 503, {"error": "webhook endpoint down"}

    monkeypatch.setattr(webhook_module, "handle_webhook", unavailable)  # what dev deliveries call
    response = await shop.press(result["url"], "pay")
    assert response.status_code == 502
    (row,) = await shop.rows(dev_deliveries_table)
    assert (row.status, row.attempts, row.claimed_by) == (DELIVERY_PENDING, 1, None)
    assert "503" in row.last_error and row.next_attempt_at > utcnow()
    assert (await shop.rows(orders))[0].status == PENDING

    monkeypatch.undo()
    async with shop.runtime.sessions() as session, session.begin():
        await session.execute(dev_deliveries_table.update().values(next_attempt_at=utcnow()))
    assert await dev_deliveries.drain(shop.runtime) == 1
    (row,) = await shop.rows(dev_deliveries_table)
    assert (row.status, row.attempts) == (DELIVERY_DONE, 2)
    assert (await shop.rows(orders))[0].status == PAID
    assert process_id().count(":") >= 2
