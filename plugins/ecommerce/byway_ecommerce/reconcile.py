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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from byway import ByWayError, Principal, record_audit, utcnow
from byway_ecommerce import emails, observability, outbox, settlement
from byway_ecommerce.config import config_of
from byway_ecommerce.models import (
    OUTBOX_DONE,
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    OUTBOX_REVOKE_FAILED,
    OUTBOX_REVOKE_PENDING,
    OUTBOX_REVOKED,
    PAID,
    audit_log,
)
from byway_ecommerce.operations import ENROLLMENT_STATUS, STUDENTS
from byway_ecommerce.store import emails as email_store
from byway_ecommerce.store import history
from byway_ecommerce.store import orders as order_store
from byway_ecommerce.store import outbox as outbox_store
from byway_ecommerce.store import reconcile as store

if TYPE_CHECKING:
    from byway import PluginRuntime

#: PENDING orders asked about per run.
MAX_PENDING_ORDERS = 500
#: enrollmentStatus accepts at most this many course ids per call.
STATUS_BATCH = 500
#: A PENDING order without a stored session id is abandoned after this long.
ORPHAN_AFTER = timedelta(hours=1)


async def _settle_pending_orders(plugin: PluginRuntime, since: datetime, summary: dict[str, Any]) -> None:
    now = utcnow()
    async with plugin.sessions() as session:
        pending = await store.pending_orders(session, since, MAX_PENDING_ORDERS)
    for order in pending:
        summary["ordersChecked"] += 1
        if order.provider_session_id is None:
            if order.created_at < now - ORPHAN_AFTER:
                async with plugin.sessions() as session, session.begin():
                    won = await order_store.cancel_pending(session, order.id, without_session=True)
                summary["ordersCancelled"] += won
            continue
        outcome = await settlement.settle_with_provider(plugin, order.id, order.provider_session_id, source="reconcile")
        if outcome.result == "fulfilled":
            summary["ordersFulfilled"] += 1
        elif outcome.result == "cancelled":
            summary["ordersCancelled"] += 1
        elif outcome.result == "provider_unavailable":
            summary["errors"].append({"orderId": order.id, "error": "payment provider unavailable"})


async def _enrollment_map(
    plugin: PluginRuntime, items: list[Any], summary: dict[str, Any]
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
                data = await plugin.client.call(
                    STUDENTS, ENROLLMENT_STATUS, {"courseIds": chunk, "studentId": student_id}, as_="service"
                )
            except ByWayError as exc:
                summary["errors"].append({"studentId": student_id, "error": f"[{exc.code}] {exc}"})
                continue
            for status in data.get("enrollmentStatus") or []:
                enrolled[(student_id, str(status["courseId"]))] = bool(status["enrolled"])
    return enrolled


async def reconcile(
    plugin: PluginRuntime,
    *,
    days: int | None = None,
    actor: Principal | str | None = None,
    client_address: str | None = None,
) -> dict[str, Any]:
    """Run one reconciliation (see the module docstring); returns the JSON summary.

    ``actor`` (an admin, the admin token's stand-in, or the CLI's operator name) is recorded in the
    audit log with the summary's counts; the scheduled job passes none and is not audited. Every run
    is logged, counted and kept for ``byway status`` (:func:`byway_ecommerce.observability.reconcile_ran`).
    """
    started = utcnow()
    try:
        summary = await _reconcile(plugin, days=days, actor=actor, client_address=client_address)
    except Exception as exc:
        await observability.reconcile_ran(plugin, started, actor, None, f"{type(exc).__name__}: {exc}")
        raise
    await observability.reconcile_ran(plugin, started, actor, summary, None)
    return summary


async def _reconcile(
    plugin: PluginRuntime, *, days: int | None, actor: Principal | str | None, client_address: str | None
) -> dict[str, Any]:
    config = config_of(plugin)
    days = days or config.reconcile_days
    started = utcnow()
    since = started - timedelta(days=days)
    summary = _new_summary(started, days)
    async with plugin.sessions() as session, session.begin():
        requeued_rows = await outbox_store.requeue_failed(session)
        summary["emailsRequeued"] = await email_store.requeue_failed(session)
    summary["requeued"] = len(requeued_rows)
    await _settle_pending_orders(plugin, since, summary)
    await outbox.drain(plugin)

    async with plugin.sessions() as session:
        items = await store.paid_items(session, since)
    enrolled = await _enrollment_map(plugin, items, summary)
    missing = [
        item
        for item in items
        if enrolled.get((item.student_id, item.course_id)) is False and item.row_status in (OUTBOX_DONE, None)
    ]
    reenrolled_items: set[str] = set()
    if missing:
        async with plugin.sessions() as session, session.begin():
            reenrolled_items = await outbox_store.redrive_missing(session, missing)
        summary["reenrolled"] = len(reenrolled_items)
        await outbox.drain(plugin)

    summary["items"] = await _item_summary(plugin, since, requeued_rows, reenrolled_items, enrolled)
    counts: dict[str, int] = defaultdict(int)
    for entry in summary["items"]:
        counts[entry["outboxStatus"] or "missing"] += 1
    summary["outbox"] = dict(counts)
    unfinished = {OUTBOX_PENDING, OUTBOX_FAILED, OUTBOX_REVOKE_PENDING, OUTBOX_REVOKE_FAILED, None}
    summary["ok"] = not summary["errors"] and not any(e["outboxStatus"] in unfinished for e in summary["items"])
    summary["review"] = await _in_review(plugin)
    summary["finishedAt"] = utcnow().isoformat()
    if actor is not None:
        await _audit(plugin, summary, actor, client_address)
    emails.wake(plugin)
    return summary


def _new_summary(started: datetime, days: int) -> dict[str, Any]:
    return {
        "startedAt": started.isoformat(),
        "days": days,
        "requeued": 0,
        "ordersChecked": 0,
        "ordersFulfilled": 0,
        "ordersCancelled": 0,
        "reenrolled": 0,
        "errors": [],
    }


async def _in_review(plugin: PluginRuntime) -> list[dict[str, Any]]:
    """Orders waiting for an admin's decision (``resolveOrderReview``), oldest first."""
    async with plugin.sessions() as session:
        rows = await history.orders_in_review(session, MAX_PENDING_ORDERS)
    return [
        {
            "orderId": row.id,
            "studentId": row.student_id,
            "totalCents": row.total_cents,
            "currency": row.currency,
            "reason": row.review_reason,
            "paidAt": row.paid_at.isoformat() if row.paid_at else None,
        }
        for row in rows
    ]


async def _audit(plugin: PluginRuntime, summary: dict[str, Any], actor: Principal | str, address: str | None) -> None:
    counts = ("days", "requeued", "ordersChecked", "ordersFulfilled", "ordersCancelled", "reenrolled", "ok")
    details = {key: summary[key] for key in counts} | {"review": len(summary["review"])}
    async with plugin.sessions() as session, session.begin():
        await record_audit(
            session, audit_log, principal=actor, action="orders.reconcile", details=details, client_address=address
        )


async def _item_summary(
    plugin: PluginRuntime,
    since: Any,
    requeued_rows: set[str],
    reenrolled_items: set[str],
    enrolled: dict[tuple[str, str], bool | None],
) -> list[dict[str, Any]]:
    """One entry per item of the window's PAID/REFUNDED orders, plus every row still unfinished."""
    async with plugin.sessions() as session:
        rows = await store.summary_rows(session, since)
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


async def reconcile_job(plugin: PluginRuntime) -> None:
    """The scheduled reconciliation (a byway Job); logs what it repaired."""
    summary = await reconcile(plugin)
    repaired = summary["requeued"] + summary["ordersFulfilled"] + summary["reenrolled"]
    if not summary["ok"]:
        plugin.log.warning(
            "reconcile: %d item(s) still undelivered, %d error(s); see POST /api/ecommerce/reconcile",
            sum(1 for e in summary["items"] if not e["delivered"] and e["orderStatus"] == PAID),
            len(summary["errors"]),
        )
    elif repaired:
        plugin.log.info(
            "reconcile: %d re-driven, %d orders fulfilled, %d re-enrolled",
            summary["requeued"],
            summary["ordersFulfilled"],
            summary["reenrolled"],
        )
    if summary["review"]:
        plugin.log.warning(
            "reconcile: %d paid order(s) wait in REVIEW for an admin (resolveOrderReview)", len(summary["review"])
        )
