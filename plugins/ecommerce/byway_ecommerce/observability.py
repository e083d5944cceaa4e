"""What ecommerce tells an operator: its metrics, its ``byway status`` checks, reconcile runs.

Metrics (``byway_ecommerce_...``, see docs/operations.md): webhook events by type and outcome,
order status transitions, enrollment outbox deliveries and rows marked failed (counted when
their transaction commits), reconcile runs and what they repaired; and, read from the database
at every scrape, the outbox backlog, its oldest pending age, failed rows and the oldest PAID order
whose enrollment is not delivered yet. ``byway status`` shows the same figures plus the last
reconcile run (kept in ``reconcile_runs``).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from byway.db import new_id, utcnow
from byway.metrics import on_commit, plugin_of
from byway.status import StatusCheck
from byway_ecommerce.models import (
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    OUTBOX_REVOKE_FAILED,
    OUTBOX_REVOKE_PENDING,
    PAID,
    enrollment_outbox,
    orders,
    reconcile_runs,
)

if TYPE_CHECKING:
    from byway.runtime import PluginRuntime

#: ``byway status`` flags a pending enrollment older than this (the alert's threshold too).
BACKLOG_ATTENTION = timedelta(minutes=15)
#: ... and a PAID order not enrolled after this long.
UNENROLLED_ATTENTION = timedelta(minutes=10)
#: Reconcile runs kept in ``reconcile_runs``.
RUNS_KEPT = 100

FAILED_HINT = ": run `byway reconcile` once the cause is fixed"

_box = enrollment_outbox.c
KIND = {OUTBOX_PENDING: "enroll", OUTBOX_REVOKE_PENDING: "revoke"}


# --- counters (named once here, so every module counts the same metric) ----------------------------


def webhook_events(plugin: PluginRuntime) -> Counter:
    """``byway_ecommerce_webhook_events_total{type, outcome}``."""
    return plugin.metrics.counter(
        "webhook_events_total", "Stripe webhook deliveries by type and outcome", ["type", "outcome"]
    )


def count_webhook(plugin: PluginRuntime, event_type: str, outcome: str) -> None:
    """Count one webhook delivery (``type`` only of verified events: anything else is ``unknown``)."""
    webhook_events(plugin).labels(event_type, outcome).inc()


#: Results of an applied event that are not plain ``verified`` ones.
WEBHOOK_OUTCOMES = {"duplicate": "duplicate", "unknown_order": "unknown_order", "unknown_payment": "unknown_order"}


def transition(session: AsyncSession, from_status: str | None, to_status: str) -> None:
    """Count an order's status change once the transaction that writes it commits.

    Called by the store functions that move an order; the plugin is the session's own
    (sessions not made by ``plugin.sessions()``, e.g. in a migration, count nothing).
    """
    plugin = plugin_of(session)
    if plugin is None:
        return
    counter = plugin.metrics.counter(
        "order_transitions_total", "Order status changes", ["from_status", "to_status"]
    ).labels(from_status or "none", to_status)
    on_commit(session, counter.inc)


def delivery(plugin: PluginRuntime, row: Any, *, revoke: bool, outcome: str, error: str | None) -> None:
    """Count and log one outbox delivery attempt with its order, item, course and student.

    ``outcome``: ``delivered``, ``retrying``, ``failed`` (the row gave up) or ``lost_claim`` (another
    worker or a refund took the row over meanwhile).
    """
    kind = "revoke" if revoke else "enroll"
    metrics = plugin.metrics
    metrics.counter(
        "outbox_deliveries_total", "Enrollment outbox delivery attempts by kind and outcome", ["kind", "outcome"]
    ).labels(kind, outcome).inc()
    if outcome == "failed":
        metrics.counter(
            "outbox_rows_failed_total", "Enrollment outbox rows marked failed after their last attempt", ["kind"]
        ).labels(kind).inc()
    ids = {
        "order_id": row.order_id,
        "item_id": row.order_item_id,
        "course_id": row.course_id,
        "student_id": row.student_id,
        "outbox_row": row.id,
        "attempt": row.attempts,
        "kind": kind,
        "outcome": outcome,
    }
    what = "revocation" if revoke else "enrollment"
    if outcome == "delivered":
        plugin.log.info("outbox %s of course %s for order %s delivered", what, row.course_id, row.order_id, extra=ids)
    elif outcome == "failed":
        plugin.log.error(
            "outbox row %s (%s of course %s for student %s, order %s) failed after %d attempts: %s; "
            "run POST /api/ecommerce/reconcile or `byway reconcile` once the cause is fixed",
            row.id,
            what,
            row.course_id,
            row.student_id,
            row.order_id,
            row.attempts,
            error,
            extra=ids,
        )
    elif outcome == "retrying":
        plugin.log.warning("outbox row %s attempt %d failed (retrying): %s", row.id, row.attempts, error, extra=ids)
    else:
        plugin.log.info("outbox row %s: claim lost (taken over meanwhile); outcome not recorded", row.id, extra=ids)


def count_reconcile(plugin: PluginRuntime, summary: dict[str, Any] | None) -> None:
    """One reconcile run: its outcome and what it repaired (``summary`` None: it raised)."""
    metrics = plugin.metrics
    ok = summary is not None and not summary.get("errors")
    metrics.counter("reconcile_runs_total", "Reconcile runs by outcome", ["outcome"]).labels(
        "ok" if ok else "error"
    ).inc()
    if summary is not None:
        repaired = metrics.counter("reconcile_repaired_total", "What reconcile repaired", ["what"])
        for key, what in REPAIRS.items():
            value = summary.get(key)
            if isinstance(value, int) and value > 0:
                repaired.labels(what).inc(value)
    if ok:
        metrics.gauge("reconcile_last_success_timestamp_seconds", "When a reconcile last finished without error").set(
            time.time()
        )


#: Summary keys of a reconcile run -> ``what`` label of ``reconcile_repaired_total``.
REPAIRS = {
    "requeued": "requeued",
    "ordersFulfilled": "orders_fulfilled",
    "ordersCancelled": "orders_cancelled",
    "reenrolled": "reenrolled",
}


# --- figures read from the database ------------------------------------------------------------


@dataclass(frozen=True)
class OutboxFigures:
    """The outbox as an operator sees it."""

    pending: dict[str, int]
    oldest_pending_age: float
    failed: int
    oldest_unenrolled_age: float


def _age(moment: datetime | None, now: datetime) -> float:
    return max((now - moment).total_seconds(), 0.0) if moment is not None else 0.0


async def outbox_figures(plugin: PluginRuntime) -> OutboxFigures:
    """Backlog by kind, the oldest pending enrollment's age, failed rows, oldest PAID-not-enrolled age."""
    now = utcnow()
    async with plugin.sessions() as session:
        backlog = (
            await session.execute(
                select(_box.status, func.count(), func.min(_box.created_at))
                .where(_box.status.in_(tuple(KIND)))
                .group_by(_box.status)
            )
        ).all()
        failed = (
            await session.execute(select(func.count()).where(_box.status.in_((OUTBOX_FAILED, OUTBOX_REVOKE_FAILED))))
        ).scalar_one()
        unenrolled = (
            await session.execute(
                select(func.min(orders.c.paid_at))
                .select_from(orders.join(enrollment_outbox, _box.order_id == orders.c.id))
                .where(orders.c.status == PAID, _box.status.in_((OUTBOX_PENDING, OUTBOX_FAILED)))
            )
        ).scalar()
    pending = {kind: 0 for kind in KIND.values()}
    oldest = 0.0
    for status, count, first in backlog:
        pending[KIND[status]] = int(count)
        if status == OUTBOX_PENDING:
            oldest = _age(first, now)
    return OutboxFigures(pending, oldest, int(failed), _age(unenrolled, now))


async def refresh(plugin: PluginRuntime) -> None:
    """The scrape-time callback: set the outbox gauges from the database."""
    figures = await outbox_figures(plugin)
    metrics = plugin.metrics
    pending = metrics.gauge("outbox_pending", "Enrollment outbox rows waiting, by kind", ["kind"])
    for kind, count in figures.pending.items():
        pending.labels(kind).set(count)
    metrics.gauge(
        "outbox_oldest_pending_age_seconds", "Age of the oldest enrollment waiting in the outbox (0: none)"
    ).set(figures.oldest_pending_age)
    metrics.gauge("outbox_failed", "Outbox rows that gave up and wait for reconcile").set(figures.failed)
    metrics.gauge(
        "paid_unenrolled_oldest_age_seconds",
        "Seconds since the oldest PAID order with an enrollment not delivered was paid (0: none)",
    ).set(figures.oldest_unenrolled_age)


# --- reconcile runs and byway status -------------------------------------------------------------


async def reconcile_ran(
    plugin: PluginRuntime, started: datetime, actor: Any, summary: dict[str, Any] | None, error: str | None
) -> None:
    """After a reconcile run: log what it did per item and overall, count it, keep it for ``byway status``.

    ``summary`` is None when the run raised (``error``). Never raises: a run is not failed by its record.
    """
    trigger = "job" if actor is None else "cli" if isinstance(actor, str) else "admin"
    ok = summary is not None and not summary.get("errors")
    if summary is not None:
        for item in summary.get("items", ()):
            if item.get("action") not in (None, "none"):
                plugin.log.info(
                    "reconcile: item %s of order %s (course %s) %s; outbox %s",
                    item.get("orderItemId"),
                    item.get("orderId"),
                    item.get("courseId"),
                    item["action"],
                    item.get("outboxStatus"),
                    extra={
                        "order_id": item.get("orderId"),
                        "item_id": item.get("orderItemId"),
                        "course_id": item.get("courseId"),
                        "student_id": item.get("studentId"),
                        "action": item["action"],
                        "outbox_status": item.get("outboxStatus"),
                        "delivered": item.get("delivered"),
                    },
                )
        error = "; ".join(json.dumps(e, default=str) for e in summary.get("errors", ()))[:1000] or None
    counts = {key: summary.get(key) for key in ("ordersChecked", *REPAIRS)} if summary is not None else {}
    level = logging.INFO if ok else logging.ERROR
    plugin.log.log(
        level,
        "reconcile (%s) %s: %s",
        trigger,
        "ok" if ok else "FAILED",
        ", ".join(f"{key} {value}" for key, value in counts.items()) or error,
        extra={"trigger": trigger, "ok": ok, **{f"reconcile_{k}": v for k, v in counts.items()}},
    )
    count_reconcile(plugin, summary)
    try:
        async with plugin.sessions() as session, session.begin():
            await session.execute(
                reconcile_runs.insert().values(
                    id=new_id(),
                    started_at=started,
                    finished_at=utcnow(),
                    trigger=trigger,
                    ok=ok,
                    counts=json.dumps(counts),
                    error=error[:1000] if error else None,
                )
            )
            keep = select(reconcile_runs.c.id).order_by(reconcile_runs.c.started_at.desc()).limit(RUNS_KEPT)
            await session.execute(delete(reconcile_runs).where(reconcile_runs.c.id.not_in(keep)))
    except Exception:
        plugin.log.exception("could not record the reconcile run for byway status")


async def last_reconcile(plugin: PluginRuntime) -> Any:
    """The latest reconcile run, or None."""
    async with plugin.sessions() as session:
        return (
            await session.execute(select(reconcile_runs).order_by(reconcile_runs.c.started_at.desc()).limit(1))
        ).first()


async def status_checks(plugin: PluginRuntime) -> list[StatusCheck]:
    """``byway status`` of ecommerce: outbox backlog and age, failed rows, unenrolled orders, last reconcile."""
    figures = await outbox_figures(plugin)
    backlog = figures.pending["enroll"] + figures.pending["revoke"]
    checks = [
        StatusCheck(
            "outbox backlog",
            figures.oldest_pending_age < BACKLOG_ATTENTION.total_seconds(),
            f"{figures.pending['enroll']} enrollment(s) and {figures.pending['revoke']} revocation(s) waiting, "
            f"oldest {figures.oldest_pending_age:.0f} s",
            {"pending": backlog, **figures.pending, "oldestPendingAgeSeconds": round(figures.oldest_pending_age, 1)},
        ),
        StatusCheck(
            "outbox failed",
            figures.failed == 0,
            f"{figures.failed} failed row(s)" + (FAILED_HINT if figures.failed else ""),
            {"failed": figures.failed},
        ),
        StatusCheck(
            "paid not enrolled",
            figures.oldest_unenrolled_age < UNENROLLED_ATTENTION.total_seconds(),
            f"oldest paid order waiting for its enrollment: {figures.oldest_unenrolled_age:.0f} s",
            {"oldestAgeSeconds": round(figures.oldest_unenrolled_age, 1)},
        ),
    ]
    run = await last_reconcile(plugin)
    if run is None:
        checks.append(StatusCheck("last reconcile", True, "never ran"))
    else:
        counts = json.loads(run.counts or "{}")
        done = ", ".join(f"{key} {value}" for key, value in counts.items() if value is not None)
        result = "ok" if run.ok else f"FAILED: {run.error or 'unknown error'}"
        checks.append(
            StatusCheck(
                "last reconcile",
                bool(run.ok),
                f"{run.started_at.isoformat(timespec='seconds')} ({run.trigger}): {result}"
                + (f" ({done})" if done else ""),
                {"startedAt": run.started_at.isoformat(), "trigger": run.trigger, "ok": bool(run.ok), **counts},
            )
        )
    return checks
