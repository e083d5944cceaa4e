"""The durable enrollment outbox and its worker.

A paid order gets one outbox row per item in the same transaction that marks it PAID; a refund
turns the rows into revocations in the transaction that marks it REFUNDED. The worker claims due
rows (``FOR UPDATE SKIP LOCKED`` on Postgres, one compare-and-set ``UPDATE`` on SQLite), calls
``students-internal`` as the ecommerce service, and records the outcome only if it still holds
the claim. Failures back off exponentially; after ``outbox_max_attempts`` the row is marked
failed and logged at ERROR level, and reconcile re-drives it. ``enrollStudent`` is an idempotent
upsert, so delivering a row twice (a worker that died mid-call) is harmless.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from byway import ByWayError, CrossPluginError, utcnow
from byway_ecommerce import leases, observability, pause
from byway_ecommerce.config import config_of
from byway_ecommerce.models import (
    OUTBOX_DONE,
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    OUTBOX_REVOKE_FAILED,
    OUTBOX_REVOKE_PENDING,
    OUTBOX_REVOKED,
)
from byway_ecommerce.operations import ENROLL_STUDENT, REVOKE_ENROLLMENT, STUDENTS
from byway_ecommerce.state import waker
from byway_ecommerce.store import outbox as store

if TYPE_CHECKING:
    from byway import PluginRuntime

#: Calls to students-internal one worker makes at once.
CONCURRENCY = 8
#: Claim rounds in one drain (bounds one run; the job and wake-ups continue later).
MAX_ROUNDS = 50


@dataclass
class DrainReport:
    """What one drain did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def wake(plugin: PluginRuntime) -> None:
    """Drain the outbox in the background now (after a fulfilment or a refund)."""
    waker(plugin, "outbox", drain).wake()


async def claim(
    plugin: PluginRuntime,
    *,
    order_id: str | None = None,
    limit: int | None = None,
    due_before: datetime | None = None,
) -> list[Any]:
    """Claim due rows for this worker (see :func:`byway_ecommerce.store.outbox.claim`).

    ``due_before`` (default now) lets a drain skip the rows it rescheduled itself.
    """
    config = config_of(plugin)
    now = utcnow()
    async with plugin.sessions() as session, session.begin():
        return await store.claim(
            session,
            limit=limit or config.outbox_batch_size,
            lease=timedelta(seconds=config.outbox_lease_seconds),
            cutoff=min(due_before, now) if due_before is not None else now,
            owner=leases.process_id(),
            order_id=order_id,
        )


async def _call(plugin: PluginRuntime, row: Any, revoke: bool) -> str | None:
    """Make the row's call to students-internal; the error text, or None on success."""
    variables = {"studentId": row.student_id, "courseId": row.course_id}
    try:
        await plugin.client.call(STUDENTS, REVOKE_ENROLLMENT if revoke else ENROLL_STUDENT, variables, as_="service")
    except CrossPluginError as exc:
        return str(exc)  # "students-internal.EnrollStudent: [CODE] message"
    except ByWayError as exc:
        return f"[{exc.code}] {exc.message}"
    except Exception as exc:  # a bug or a broken transport must not lose the row
        plugin.log.exception("outbox row %s: unexpected error", row.id)
        return f"{type(exc).__name__}: {exc}"
    return None


async def deliver(plugin: PluginRuntime, row: Any) -> str:
    """Make one claimed row's call and record the outcome; returns the row's new status.

    The outcome is written only while the claim is still ours (``claim_token``): a refund that
    turned the row into a revocation meanwhile, or a worker that took over an expired lease,
    wins.
    """
    config = config_of(plugin)
    revoke = row.status == OUTBOX_REVOKE_PENDING
    await pause.point(plugin, "before_enroll_call")
    error = await _call(plugin, row, revoke)
    await pause.point(plugin, "after_enroll_call")
    values: dict[str, Any] = {"claim_token": None, "last_error": None if error is None else error[:1000]}
    if error is None:
        status = values["status"] = OUTBOX_REVOKED if revoke else OUTBOX_DONE
    elif row.attempts >= config.outbox_max_attempts:
        status = values["status"] = OUTBOX_REVOKE_FAILED if revoke else OUTBOX_FAILED
    else:
        status = row.status
        values["next_attempt_at"] = utcnow() + timedelta(seconds=config.backoff_seconds(row.attempts))
    async with plugin.sessions() as session, session.begin():
        if not await store.record_outcome(session, row.id, row.claim_token, values):
            observability.delivery(plugin, row, revoke=revoke, outcome="lost_claim", error=error)
            return "lost_claim"
    if status in (OUTBOX_FAILED, OUTBOX_REVOKE_FAILED):
        outcome = "failed"
    else:
        outcome = "delivered" if error is None else "retrying"
    observability.delivery(plugin, row, revoke=revoke, outcome=outcome, error=error)
    return status


async def drain(plugin: PluginRuntime, *, order_id: str | None = None) -> DrainReport:
    """Deliver every row due now (of one order, or all), claiming in batches until none is left.

    Rows that fail are rescheduled after the drain's start, so one drain tries each row once.
    """
    started = utcnow()
    report = DrainReport()
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one(row: Any) -> str:
        async with semaphore:
            return await deliver(plugin, row)

    for _ in range(MAX_ROUNDS):
        rows = await claim(plugin, order_id=order_id, due_before=started)
        if not rows:
            break
        for status in await asyncio.gather(*(one(r) for r in rows)):
            if status in (OUTBOX_DONE, OUTBOX_REVOKED):
                report.delivered += 1
            elif status in (OUTBOX_FAILED, OUTBOX_REVOKE_FAILED):
                report.failed += 1
            elif status in (OUTBOX_PENDING, OUTBOX_REVOKE_PENDING):
                report.retrying += 1
    return report


async def outbox_job(plugin: PluginRuntime) -> None:
    """The periodic worker (a byway Job): drain whatever is due."""
    report = await drain(plugin)
    if report.delivered or report.failed:
        plugin.log.info(
            "outbox: %d delivered, %d retrying, %d failed", report.delivered, report.retrying, report.failed
        )
