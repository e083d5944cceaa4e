"""Reconcile: repair whatever the webhook, the redirect and the worker left undone.

One function behind three doors: ``POST /api/ecommerce/reconcile`` (admin JWT or the configured
admin token), the scheduled job (``reconcile_interval_seconds``) and ``byway reconcile``. It

1. re-drives outbox rows that failed (attempts reset) and brings rows waiting in backoff forward;
2. asks the provider about PENDING orders of the window: paid sessions are fulfilled (a missed
   webhook and no redirect), expired ones cancelled; an order whose session was never stored
   is cancelled after an hour;
3. drains the outbox;
4. re-checks the enrollments of orders PAID within ``days`` with ONE ``enrollmentStatus`` call
   per student (as service) and re-enrolls any missing one through the outbox;

and returns a JSON summary with one entry per order item it looked at. An item whose course the
student paid for in another PAID order too is flagged ``"duplicatePayment": true`` (e.g. a buyer
who paid a checkout that a newer one had superseded): refund one of them by hand.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select, update

from byway.db import insert_for, new_id, utcnow
from byway.errors import ByWayError
from byway_ecommerce import outbox
from byway_ecommerce.fulfilment import release_in
from byway_ecommerce.models import (
    CANCELLED,
    OUTBOX_ACTIVE,
    OUTBOX_DONE,
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    OUTBOX_REVOKE_FAILED,
    OUTBOX_REVOKE_PENDING,
    OUTBOX_REVOKED,
    PAID,
    PENDING,
    REFUNDED,
    enrollment_outbox,
    order_items,
    orders,
)
from byway_ecommerce.operations import ENROLLMENT_STATUS, STUDENTS
from byway_ecommerce.state import config_of
from byway_ecommerce.verify import settle_with_provider

if TYPE_CHECKING:
    from byway.runtime import PluginRuntime

#: PENDING orders asked about per run.
MAX_PENDING_ORDERS = 500
#: enrollmentStatus accepts at most this many course ids per call.
STATUS_BATCH = 500
#: A PENDING order without a stored session id is abandoned after this long.
ORPHAN_AFTER = timedelta(hours=1)

_box = enrollment_outbox.c


async def _requeue_failed(runtime: PluginRuntime) -> set[str]:
    now = utcnow()
    ids: set[str] = set()
    async with runtime.sessions() as session, session.begin():
        for failed, retry in ((OUTBOX_FAILED, OUTBOX_PENDING), (OUTBOX_REVOKE_FAILED, OUTBOX_REVOKE_PENDING)):
            result = await session.execute(
                update(enrollment_outbox)
                .where(_box.status == failed)
                .values(status=retry, attempts=0, next_attempt_at=now, updated_at=now)
                .returning(_box.id)
            )
            ids.update(result.scalars())
        # Rows waiting in backoff (not held by a worker) are due now.
        result = await session.execute(
            update(enrollment_outbox)
            .where(_box.status.in_(OUTBOX_ACTIVE), _box.claim_token.is_(None), _box.next_attempt_at > now)
            .values(next_attempt_at=now, updated_at=now)
            .returning(_box.id)
        )
        ids.update(result.scalars())
    return ids


async def _settle_pending_orders(runtime: PluginRuntime, since: Any, summary: dict[str, Any]) -> None:
    now = utcnow()
    async with runtime.sessions() as session:
        pending = (
            await session.execute(
                select(orders.c.id, orders.c.provider_session_id, orders.c.created_at)
                .where(orders.c.status == PENDING, orders.c.created_at >= since)
                .order_by(orders.c.created_at)
                .limit(MAX_PENDING_ORDERS)
            )
        ).all()
    for order in pending:
        summary["ordersChecked"] += 1
        if order.provider_session_id is None:
            if order.created_at < now - ORPHAN_AFTER:
                async with runtime.sessions() as session, session.begin():
                    won = (
                        await session.execute(
                            update(orders)
                            .where(
                                orders.c.id == order.id,
                                orders.c.status == PENDING,
                                orders.c.provider_session_id.is_(None),
                            )
                            .values(status=CANCELLED, updated_at=now)
                            .returning(orders.c.id)
                        )
                    ).first()
                    if won is not None:
                        await release_in(session, order.id)
                summary["ordersCancelled"] += won is not None
            continue
        outcome = await settle_with_provider(runtime, order.id, order.provider_session_id, source="reconcile")
        if outcome.result == "fulfilled":
            summary["ordersFulfilled"] += 1
        elif outcome.result == "cancelled":
            summary["ordersCancelled"] += 1
        elif outcome.result == "provider_unavailable":
            summary["errors"].append({"orderId": order.id, "error": "payment provider unavailable"})


async def _paid_items(runtime: PluginRuntime, since: Any) -> list[Any]:
    statement = (
        select(
            order_items.c.id.label("item_id"),
            order_items.c.order_id,
            order_items.c.course_id,
            orders.c.student_id,
            orders.c.status.label("order_status"),
            _box.id.label("row_id"),
            _box.status.label("row_status"),
        )
        .join(orders, orders.c.id == order_items.c.order_id)
        .outerjoin(enrollment_outbox, _box.order_item_id == order_items.c.id)
        .where(orders.c.status == PAID, orders.c.paid_at >= since)
        .order_by(orders.c.paid_at, order_items.c.position)
    )
    async with runtime.sessions() as session:
        return list((await session.execute(statement)).all())


async def _enrollment_map(
    runtime: PluginRuntime, items: list[Any], summary: dict[str, Any]
) -> dict[tuple[str, str], bool | None]:
    by_student: dict[str, list[str]] = defaultdict(list)
    for item in items:
        if item.course_id not in by_student[item.student_id]:
            by_student[item.student_id].append(item.course_id)
    enrolled: dict[tuple[str, str], bool | None] = {}
    for student_id, course_ids in by_student.items():
        for start in range(0, len(course_ids), STATUS_BATCH):
            chunk = course_ids[start : start + STATUS_BATCH]
            try:
                data = await runtime.client.call(
                    STUDENTS, ENROLLMENT_STATUS, {"courseIds": chunk, "studentId": student_id}, as_="service"
                )
            except ByWayError as exc:
                summary["errors"].append({"studentId": student_id, "error": f"[{exc.code}] {exc}"})
                continue
            for status in data.get("enrollmentStatus") or []:
                enrolled[(student_id, str(status["courseId"]))] = bool(status["enrolled"])
    return enrolled


async def _redrive_missing(runtime: PluginRuntime, missing: list[Any]) -> set[str]:
    """Queue the missing enrollments again (rows back to pending; a lost row is recreated)."""
    now = utcnow()
    ids: set[str] = set()
    async with runtime.sessions() as session, session.begin():
        for item in missing:
            if item.row_id is None:
                await session.execute(
                    insert_for(session)(enrollment_outbox)
                    .values(
                        id=new_id(),
                        order_id=item.order_id,
                        order_item_id=item.item_id,
                        student_id=item.student_id,
                        course_id=item.course_id,
                        status=OUTBOX_PENDING,
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                        updated_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["order_item_id"])
                )
                ids.add(item.item_id)
                continue
            result = await session.execute(
                update(enrollment_outbox)
                .where(_box.id == item.row_id, _box.status == OUTBOX_DONE)
                .values(status=OUTBOX_PENDING, attempts=0, next_attempt_at=now, last_error=None, updated_at=now)
                .returning(_box.order_item_id)
            )
            ids.update(result.scalars())
    return ids


async def reconcile(runtime: PluginRuntime, *, days: int | None = None) -> dict[str, Any]:
    """Run one reconciliation (see the module docstring); returns the JSON summary."""
    config = config_of(runtime)
    days = days or config.reconcile_days
    started = utcnow()
    since = started - timedelta(days=days)
    summary: dict[str, Any] = {
        "startedAt": started.isoformat(),
        "days": days,
        "requeued": 0,
        "ordersChecked": 0,
        "ordersFulfilled": 0,
        "ordersCancelled": 0,
        "reenrolled": 0,
        "errors": [],
    }
    requeued_rows = await _requeue_failed(runtime)
    summary["requeued"] = len(requeued_rows)
    await _settle_pending_orders(runtime, since, summary)
    await outbox.drain(runtime)

    items = await _paid_items(runtime, since)
    enrolled = await _enrollment_map(runtime, items, summary)
    missing = [
        item
        for item in items
        if enrolled.get((item.student_id, item.course_id)) is False and item.row_status in (OUTBOX_DONE, None)
    ]
    reenrolled_items: set[str] = set()
    if missing:
        reenrolled_items = await _redrive_missing(runtime, missing)
        summary["reenrolled"] = len(reenrolled_items)
        await outbox.drain(runtime)

    summary["items"] = await _item_summary(runtime, since, requeued_rows, reenrolled_items, enrolled)
    counts: dict[str, int] = defaultdict(int)
    for entry in summary["items"]:
        counts[entry["outboxStatus"] or "missing"] += 1
    summary["outbox"] = dict(counts)
    unfinished = {OUTBOX_PENDING, OUTBOX_FAILED, OUTBOX_REVOKE_PENDING, OUTBOX_REVOKE_FAILED, None}
    summary["ok"] = not summary["errors"] and not any(e["outboxStatus"] in unfinished for e in summary["items"])
    summary["finishedAt"] = utcnow().isoformat()
    return summary


async def _item_summary(
    runtime: PluginRuntime,
    since: Any,
    requeued_rows: set[str],
    reenrolled_items: set[str],
    enrolled: dict[tuple[str, str], bool | None],
) -> list[dict[str, Any]]:
    """One entry per item of the window's PAID/REFUNDED orders, plus every row still unfinished."""
    statement = (
        select(
            order_items.c.id.label("item_id"),
            order_items.c.order_id,
            order_items.c.course_id,
            orders.c.student_id,
            orders.c.status.label("order_status"),
            orders.c.superseded_at,
            _box.id.label("row_id"),
            _box.status.label("row_status"),
            _box.attempts,
            _box.last_error,
        )
        .join(orders, orders.c.id == order_items.c.order_id)
        .outerjoin(enrollment_outbox, _box.order_item_id == order_items.c.id)
        .where(
            (and_(orders.c.status.in_((PAID, REFUNDED)), orders.c.paid_at >= since))
            | _box.status.in_((OUTBOX_PENDING, OUTBOX_FAILED, OUTBOX_REVOKE_PENDING, OUTBOX_REVOKE_FAILED))
        )
        .order_by(orders.c.paid_at, order_items.c.position)
    )
    async with runtime.sessions() as session:
        rows = (await session.execute(statement)).all()
    paid_orders: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        if row.order_status == PAID:
            paid_orders[(row.student_id, row.course_id)].add(row.order_id)
    entries = []
    for row in rows:
        checked = enrolled.get((row.student_id, row.course_id))
        if row.item_id in reenrolled_items:
            action = "reenrolled"
        elif row.row_id in requeued_rows:
            action = "redriven"
        elif row.order_status == PAID and checked is None:
            action = "unverified"
        else:
            action = "none"
        entries.append(
            {
                "orderId": row.order_id,
                "orderItemId": row.item_id,
                "studentId": row.student_id,
                "courseId": row.course_id,
                "orderStatus": row.order_status,
                "outboxStatus": row.row_status,
                "attempts": row.attempts,
                "enrolledBefore": checked,
                "delivered": row.row_status in (OUTBOX_DONE, OUTBOX_REVOKED),
                "action": action,
                "lastError": row.last_error,
                "superseded": row.superseded_at is not None,
                "duplicatePayment": row.order_status == PAID and len(paid_orders[(row.student_id, row.course_id)]) > 1,
            }
        )
    return entries


async def reconcile_job(runtime: PluginRuntime) -> None:
    """The scheduled reconciliation (a byway Job); logs what it repaired."""
    summary = await reconcile(runtime)
    repaired = summary["requeued"] + summary["ordersFulfilled"] + summary["reenrolled"]
    if not summary["ok"]:
        runtime.log.warning(
            "reconcile: %d item(s) still undelivered, %d error(s); see POST /api/ecommerce/reconcile",
            sum(1 for e in summary["items"] if not e["delivered"] and e["orderStatus"] == PAID),
            len(summary["errors"]),
        )
    elif repaired:
        runtime.log.info(
            "reconcile: %d re-driven, %d orders fulfilled, %d re-enrolled",
            summary["requeued"],
            summary["ordersFulfilled"],
            summary["reenrolled"],
        )
