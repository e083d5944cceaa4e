"""Reconcile: who may run it, what it repairs, the JSON summary, the job and ``byway reconcile``."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from byway_ecommerce import plugin as ecommerce_plugin
from byway_ecommerce.dev_provider import DevProvider
from byway_ecommerce.models import (
    CANCELLED,
    OUTBOX_DONE,
    OUTBOX_PENDING,
    PAID,
    PENDING,
    enrollment_outbox,
    orders,
    payments,
)
from byway_ecommerce.state import state_of
from click.testing import CliRunner
from ecommerce_fakes import FakeCourses, FakeStudents
from ecommerce_shop import Shop, event, eventually, open_shop, session_object, settings_with

from byway.cli import build_cli
from byway.db import utcnow
from byway.host import Host
from byway.settings import Settings
from byway.testing import make_settings

ADMIN_TOKEN = "reconcile-admin-token-0123456789abcdef"
URL = "/api/ecommerce/reconcile"


@pytest.fixture
async def guarded(byway_settings: Settings) -> Any:
    async with open_shop(byway_settings, admin_token=ADMIN_TOKEN) as shop:
        yield shop


async def paid_order(shop: Shop, user: str = "buyer", price: int = 1000) -> dict[str, Any]:
    course = shop.courses.add_course(price=price)
    result = await shop.buy([course], token=shop.user(user))
    obj = session_object(result["orderId"], result["sessionId"], amount=price)
    await shop.post_event(event("checkout.session.completed", obj))
    await shop.settle()
    return {**result, "courseId": course}


async def test_reconcile_is_refused_to_everyone_but_admins(guarded: Shop) -> None:
    client = guarded.app.client
    assert (await client.post(URL)).status_code == 401
    student = guarded.user("student")
    assert (await client.post(URL, headers={"Authorization": f"Bearer {student}"})).status_code == 403
    teacher = guarded.user("teacher", ("student", "teacher"))
    assert (await client.post(URL, headers={"Authorization": f"Bearer {teacher}"})).status_code == 403
    service = guarded.app.host.tokens.service_token("teach-internal")
    assert (await client.post(URL, headers={"Authorization": f"Bearer {service}"})).status_code == 403
    response = await client.post(URL, headers={"X-Byway-Admin-Token": ADMIN_TOKEN + "x"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await client.post(URL, headers={"Authorization": "Bearer not-a-jwt"})).status_code == 401
    assert (await client.get(URL, headers={"X-Byway-Admin-Token": ADMIN_TOKEN})).status_code == 405

    response = await client.post(URL, headers={"X-Byway-Admin-Token": ADMIN_TOKEN})
    assert response.status_code == 200 and response.json()["ok"] is True
    admin = guarded.user("admin", ("student", "admin"))
    response = await client.post(URL, headers={"Authorization": f"Bearer {admin}"})
    assert response.status_code == 200 and response.json()["ok"] is True
    response = await client.post(URL + "?days=0", headers={"X-Byway-Admin-Token": ADMIN_TOKEN})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["field"] == "days"


async def test_without_a_configured_token_the_header_is_refused(shop: Shop) -> None:
    response = await shop.app.client.post(URL, headers={"X-Byway-Admin-Token": ""})
    assert response.status_code == 401


async def test_reconcile_re_enrolls_a_lost_enrollment(guarded: Shop) -> None:
    kept = await paid_order(guarded, "keeper")
    lost = await paid_order(guarded, "loser")
    lost_student = guarded.students.student_of("loser")
    guarded.students.enrollments.discard((lost_student, lost["courseId"]))  # e.g. restored from a backup

    response = await guarded.app.client.post(URL, headers={"X-Byway-Admin-Token": ADMIN_TOKEN})
    summary = response.json()
    assert summary["ok"] is True and summary["reenrolled"] == 1
    by_order = {item["orderId"]: item for item in summary["items"]}
    assert by_order[lost["orderId"]]["action"] == "reenrolled"
    assert by_order[lost["orderId"]]["enrolledBefore"] is False
    assert by_order[lost["orderId"]]["outboxStatus"] == OUTBOX_DONE
    assert by_order[kept["orderId"]]["action"] == "none"
    assert by_order[kept["orderId"]]["enrolledBefore"] is True
    assert (lost_student, lost["courseId"]) in guarded.students.enrollments
    # One enrollmentStatus call per student, as the service.
    assert guarded.students.calls["enrollmentStatus"] == 2 + 2  # two checkouts + two students


async def test_reconcile_fulfils_a_paid_order_whose_webhook_never_came(guarded: Shop) -> None:
    course = guarded.courses.add_course()
    result = await guarded.buy([course], token=guarded.user("forgotten"))
    provider = state_of(guarded.runtime).provider
    assert isinstance(provider, DevProvider)
    await provider.mark_paid(result["sessionId"])
    abandoned = await guarded.buy([guarded.courses.add_course()], token=guarded.user("abandoned"))
    await provider.mark_expired(abandoned["sessionId"])

    response = await guarded.app.client.post(URL, headers={"X-Byway-Admin-Token": ADMIN_TOKEN})
    summary = response.json()
    assert (summary["ordersChecked"], summary["ordersFulfilled"], summary["ordersCancelled"]) == (2, 1, 1)
    (order,) = await guarded.rows(orders, orders.c.id == result["orderId"])
    assert order.status == PAID
    (payment,) = await guarded.rows(payments)
    assert payment.source == "reconcile"
    (other,) = await guarded.rows(orders, orders.c.id == abandoned["orderId"])
    assert other.status == CANCELLED
    assert guarded.students.enrollments == {(guarded.students.student_of("forgotten"), course)}


async def test_reconcile_cancels_an_order_whose_session_was_never_stored(guarded: Shop) -> None:
    result = await guarded.buy([guarded.courses.add_course()], token=guarded.user())
    async with guarded.runtime.sessions() as session, session.begin():
        await session.execute(
            orders.update().values(provider_session_id=None, created_at=utcnow() - timedelta(hours=2))
        )
    fresh = await guarded.buy([guarded.courses.add_course()], token=guarded.user())
    async with guarded.runtime.sessions() as session, session.begin():
        await session.execute(orders.update().where(orders.c.id == fresh["orderId"]).values(provider_session_id=None))
    summary = (await guarded.app.client.post(URL, headers={"X-Byway-Admin-Token": ADMIN_TOKEN})).json()
    assert summary["ordersCancelled"] == 1
    (old,) = await guarded.rows(orders, orders.c.id == result["orderId"])
    (new,) = await guarded.rows(orders, orders.c.id == fresh["orderId"])
    assert (old.status, new.status) == (CANCELLED, PENDING)  # the fresh one may still be on its way


async def test_reconcile_reports_what_it_could_not_do(guarded: Shop) -> None:
    await paid_order(guarded, "unlucky")
    guarded.students.fail_all = True
    summary = (await guarded.app.client.post(URL, headers={"X-Byway-Admin-Token": ADMIN_TOKEN})).json()
    assert summary["ok"] is False
    assert summary["errors"] and "UPSTREAM_UNAVAILABLE" in summary["errors"][0]["error"]
    (item,) = summary["items"]
    assert (item["action"], item["outboxStatus"]) == ("unverified", OUTBOX_DONE)


async def test_reconcile_job_runs_on_its_interval(byway_settings: Settings) -> None:
    async with open_shop(byway_settings, reconcile_interval_seconds=0.05, outbox_backoff_seconds=3600) as shop:
        course = shop.courses.add_course()
        result = await shop.buy([course], token=shop.user("scheduled"))
        shop.students.fail_writes = True
        await shop.post_event(
            event("checkout.session.completed", session_object(result["orderId"], result["sessionId"], amount=1000))
        )
        await shop.settle()
        shop.students.fail_writes = False  # the row waits an hour in backoff; the job brings it forward

        async def delivered() -> bool:
            return (await shop.rows(enrollment_outbox))[0].status == OUTBOX_DONE

        assert await eventually(delivered)


def test_byway_reconcile_command(tmp_path: Path) -> None:
    """``byway reconcile`` re-drives what a running server left pending, and prints the summary."""
    students, courses = FakeStudents(), FakeCourses()
    settings = make_settings(tmp_path / "data")

    async def leave_a_pending_row() -> None:
        async with open_shop(settings, students, courses, outbox_backoff_seconds=3600) as shop:
            course = courses.add_course()
            result = await shop.buy([course], token=shop.user("cli"))
            students.fail_writes = True
            obj = session_object(result["orderId"], result["sessionId"], amount=1000)
            await shop.post_event(event("checkout.session.completed", obj))
            await shop.settle()
            assert await shop.count(enrollment_outbox, enrollment_outbox.c.status == OUTBOX_PENDING) == 1

    asyncio.run(leave_a_pending_row())
    students.fail_writes = False
    host = Host(settings_with(settings), [ecommerce_plugin, students, courses], load_entrypoints=False)
    outcome = CliRunner().invoke(build_cli(host), ["reconcile", "--days", "3"])
    assert outcome.exit_code == 0, outcome.output
    summary = json.loads(outcome.output)
    assert (summary["ok"], summary["days"], summary["requeued"]) == (True, 3, 1)
    assert summary["items"][0]["outboxStatus"] == OUTBOX_DONE
    assert len(students.enrollments) == 1

    students.fail_all = True
    host = Host(settings_with(settings), [ecommerce_plugin, students, courses], load_entrypoints=False)
    outcome = CliRunner().invoke(build_cli(host), ["reconcile"])
    assert outcome.exit_code == 1
    assert json.loads(outcome.output)["ok"] is False
