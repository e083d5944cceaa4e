"""SQL of the durable enrollment outbox: claims with a lease, outcomes under the claim, re-drives."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from byway import insert_for, new_id, utcnow
from byway_ecommerce.models import (
    OUTBOX_ACTIVE,
    OUTBOX_DONE,
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    OUTBOX_REVOKE_FAILED,
    OUTBOX_REVOKE_PENDING,
    enrollment_outbox,
    order_items,
)

_box = enrollment_outbox.c


async def claim(
    session: AsyncSession,
    *,
    limit: int,
    lease: timedelta,
    cutoff: datetime,
    owner: str,
    order_id: str | None = None,
) -> list[Any]:
    """Claim up to ``limit`` rows due by ``cutoff`` for ``owner``: a fresh claim token and a lease, in one statement.

    The lease end is written to ``next_attempt_at``, so a worker that dies leaves rows that become
    due again when its lease ends. ``attempts`` counts claims, so a row that kills its worker still
    reaches the attempt limit. On Postgres the rows another transaction is claiming right now are
    skipped (``FOR UPDATE SKIP LOCKED``); SQLite serialises writers.
    """
    now = utcnow()
    due = select(_box.id).where(_box.status.in_(OUTBOX_ACTIVE), _box.next_attempt_at <= cutoff)
    if order_id is not None:
        due = due.where(_box.order_id == order_id)
    due = due.order_by(_box.next_attempt_at, _box.id).limit(limit)
    if session.get_bind().dialect.name != "sqlite":
        due = due.with_for_update(skip_locked=True)
    statement = (
        update(enrollment_outbox)
        .where(_box.id.in_(due), _box.status.in_(OUTBOX_ACTIVE), _box.next_attempt_at <= cutoff)
        .values(
            claim_token=new_id(),
            claimed_by=owner,
            attempts=_box.attempts + 1,
            next_attempt_at=now + lease,
            updated_at=now,
        )
        .returning(*enrollment_outbox.c)
    )
    return list((await session.execute(statement)).all())


async def record_outcome(session: AsyncSession, row_id: str, claim_token: str, values: dict[str, Any]) -> bool:
    """Write a delivery's outcome only while the claim is still ours; False when it was lost."""
    mine = and_(_box.id == row_id, _box.claim_token == claim_token)
    written = (
        await session.execute(
            update(enrollment_outbox)
            .where(mine)
            .values(**values, claimed_by=None, updated_at=utcnow())
            .returning(_box.id)
        )
    ).first()
    return written is not None


async def states_of_order(session: AsyncSession, order_id: str) -> list[Any]:
    """``(status, claim_token)`` of each outbox row of the order."""
    statement = select(_box.status, _box.claim_token).where(_box.order_id == order_id)
    return list((await session.execute(statement)).all())


async def requeue_failed(session: AsyncSession) -> set[str]:
    """Failed rows back to pending (attempts reset) and rows waiting in backoff due now; their ids."""
    now = utcnow()
    ids: set[str] = set()
    for failed, retry in ((OUTBOX_FAILED, OUTBOX_PENDING), (OUTBOX_REVOKE_FAILED, OUTBOX_REVOKE_PENDING)):
        result = await session.execute(
            update(enrollment_outbox)
            .where(_box.status == failed)
            .values(status=retry, attempts=0, next_attempt_at=now, updated_at=now)
            .returning(_box.id)
        )
        ids.update(result.scalars())
    result = await session.execute(
        update(enrollment_outbox)
        .where(_box.status.in_(OUTBOX_ACTIVE), _box.claim_token.is_(None), _box.next_attempt_at > now)
        .values(next_attempt_at=now, updated_at=now)
        .returning(_box.id)
    )
    ids.update(result.scalars())
    return ids


async def redrive_missing(session: AsyncSession, missing: Iterable[Any]) -> set[str]:
    """Queue missing enrollments again: a delivered row back to pending, a lost row recreated.

    ``missing`` holds ``(item_id, order_id, student_id, course_id, row_id)`` records; returns the
    item ids queued.
    """
    now = utcnow()
    ids: set[str] = set()
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


async def queue_enrollments(session: AsyncSession, order_id: str, student_id: str) -> int:
    """One pending outbox row per item of the order (a repeat is a no-op); returns the item count."""
    now = utcnow()
    items = (
        await session.execute(
            select(order_items.c.id, order_items.c.course_id).where(order_items.c.order_id == order_id)
        )
    ).all()
    if items:
        await session.execute(
            insert_for(session)(enrollment_outbox)
            .values(
                [
                    {
                        "id": new_id(),
                        "order_id": order_id,
                        "order_item_id": item.id,
                        "student_id": student_id,
                        "course_id": item.course_id,
                        "status": OUTBOX_PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for item in items
                ]
            )
            .on_conflict_do_nothing(index_elements=["order_item_id"])
        )
    return len(items)
