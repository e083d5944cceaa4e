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

from sqlalchemy import and_, select, update

from byway.client import CrossPluginError
from byway.db import new_id, utcnow
from byway.errors import ByWayError
from byway_ecommerce.models import (
    OUTBOX_ACTIVE,
    OUTBOX_DONE,
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    OUTBOX_REVOKE_FAILED,
    OUTBOX_REVOKE_PENDING,
    OUTBOX_REVOKED,
    enrollment_outbox,
)
from byway_ecommerce.operations import ENROLL_STUDENT, REVOKE_ENROLLMENT, STUDENTS
from byway_ecommerce.state import Waker, config_of, state_of

if TYPE_CHECKING:
    from byway.runtime import PluginRuntime

#: Calls to students-internal one worker makes at once.
CONCURRENCY = 8
#: Claim rounds in one drain (bounds one run; the job and wake-ups continue later).
MAX_ROUNDS = 50

_box = enrollment_outbox.c


@dataclass
class DrainReport:
    """What one drain did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    def add(self, other: DrainReport) -> None:
        """Fold another report into this one."""
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.failed += other.failed


def wake(runtime: PluginRuntime) -> None:
    """Drain the outbox in the background now (after a fulfilment or a refund)."""
    state = state_of(runtime)
    if state.waker is None:
        state.waker = Waker(runtime, drain)
    state.waker.wake()


async def claim(
    runtime: PluginRuntime,
    *,
    order_id: str | None = None,
    limit: int | None = None,
    due_before: datetime | None = None,
) -> list[Any]:
    """Claim due rows for this worker: a fresh claim token and a lease, in one statement.

    Only rows that are due (``next_attempt_at <= now``) and active are taken; the lease end is
    written to ``next_attempt_at``, so a worker that dies leaves rows that become due again
    when its lease ends. ``attempts`` counts claims, so a row that kills its worker still
    reaches ``outbox_max_attempts``. ``due_before`` (default now) lets a drain skip the rows it
    rescheduled itself.
    """
    config = config_of(runtime)
    now = utcnow()
    cutoff = min(due_before, now) if due_before is not None else now
    token = new_id()
    due = select(_box.id).where(_box.status.in_(OUTBOX_ACTIVE), _box.next_attempt_at <= cutoff)
    if order_id is not None:
        due = due.where(_box.order_id == order_id)
    due = due.order_by(_box.next_attempt_at, _box.id).limit(limit or config.outbox_batch_size)
    if not runtime.db.is_sqlite:
        # Several workers or hosts: each skips the rows another is claiming right now.
        due = due.with_for_update(skip_locked=True)
    statement = (
        update(enrollment_outbox)
        .where(_box.id.in_(due), _box.status.in_(OUTBOX_ACTIVE), _box.next_attempt_at <= cutoff)
        .values(
            claim_token=token,
            attempts=_box.attempts + 1,
            next_attempt_at=now + timedelta(seconds=config.outbox_lease_seconds),
            updated_at=now,
        )
        .returning(*enrollment_outbox.c)
    )
    async with runtime.sessions() as session, session.begin():
        return list((await session.execute(statement)).all())


async def deliver(runtime: PluginRuntime, row: Any) -> str:
    """Make one claimed row's call and record the outcome; returns the row's new status.

    The outcome is written only while the claim is still ours (``claim_token``): a refund that
    turned the row into a revocation meanwhile, or a worker that took over an expired lease,
    wins.
    """
    config = config_of(runtime)
    revoke = row.status == OUTBOX_REVOKE_PENDING
    variables = {"studentId": row.student_id, "courseId": row.course_id}
    error: str | None = None
    try:
        if revoke:
            await runtime.client.call(STUDENTS, REVOKE_ENROLLMENT, variables, as_="service")
        else:
            await runtime.client.call(STUDENTS, ENROLL_STUDENT, variables, as_="service")
    except CrossPluginError as exc:
        error = str(exc)  # "students-internal.EnrollStudent: [CODE] message"
    except ByWayError as exc:
        error = f"[{exc.code}] {exc.message}"
    except Exception as exc:  # a bug or a broken transport must not lose the row
        runtime.log.exception("outbox row %s: unexpected error", row.id)
        error = f"{type(exc).__name__}: {exc}"
    now = utcnow()
    mine = and_(_box.id == row.id, _box.claim_token == row.claim_token)
    if error is None:
        status = OUTBOX_REVOKED if revoke else OUTBOX_DONE
        values: dict[str, Any] = {"status": status, "claim_token": None, "last_error": None, "updated_at": now}
    elif row.attempts >= config.outbox_max_attempts:
        status = OUTBOX_REVOKE_FAILED if revoke else OUTBOX_FAILED
        values = {"status": status, "claim_token": None, "last_error": error[:1000], "updated_at": now}
    else:
        status = row.status
        values = {
            "claim_token": None,
            "last_error": error[:1000],
            "next_attempt_at": now + timedelta(seconds=config.backoff_seconds(row.attempts)),
            "updated_at": now,
        }
    async with runtime.sessions() as session, session.begin():
        written = (
            await session.execute(update(enrollment_outbox).where(mine).values(**values).returning(_box.id))
        ).first()
    if written is None:
        return "lost_claim"
    if status in (OUTBOX_FAILED, OUTBOX_REVOKE_FAILED):
        runtime.log.error(
            "outbox row %s (%s of course %s for student %s, order %s) failed after %d attempts: %s; "
            "run POST /api/ecommerce/reconcile or `byway reconcile` once the cause is fixed",
            row.id,
            "revocation" if revoke else "enrollment",
            row.course_id,
            row.student_id,
            row.order_id,
            row.attempts,
            error,
        )
    elif error is not None:
        runtime.log.warning("outbox row %s attempt %d failed (retrying): %s", row.id, row.attempts, error)
    return status


async def drain(runtime: PluginRuntime, *, order_id: str | None = None) -> DrainReport:
    """Deliver every row due now (of one order, or all), claiming in batches until none is left.

    Rows that fail are rescheduled after the drain's start, so one drain tries each row once.
    """
    started = utcnow()
    report = DrainReport()
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one(row: Any) -> str:
        async with semaphore:
            return await deliver(runtime, row)

    for _ in range(MAX_ROUNDS):
        rows = await claim(runtime, order_id=order_id, due_before=started)
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


async def outbox_job(runtime: PluginRuntime) -> None:
    """The periodic worker (a byway Job): drain whatever is due."""
    report = await drain(runtime)
    if report.delivered or report.failed:
        runtime.log.info(
            "outbox: %d delivered, %d retrying, %d failed", report.delivered, report.retrying, report.failed
        )
