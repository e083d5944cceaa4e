"""SQL of the email outbox: receipts and refund notices waiting to go to the notifications plugin."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from byway import insert_for, new_id, utcnow
from byway_ecommerce.models import EMAIL_FAILED, EMAIL_PENDING, email_outbox, order_items, orders

_mail = email_outbox.c


async def queue(session: AsyncSession, order_id: str, kind: str) -> bool:
    """One email of ``kind`` for the order (its key makes a repeat a no-op); True if queued now."""
    now = utcnow()
    queued = (
        await session.execute(
            insert_for(session)(email_outbox)
            .values(
                id=new_id(),
                order_id=order_id,
                kind=kind,
                key=f"ecommerce-{kind}-{order_id}",
                status=EMAIL_PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(_mail.id)
        )
    ).first()
    return queued is not None


async def claim(session: AsyncSession, *, limit: int, lease: timedelta, cutoff: datetime, owner: str) -> list[Any]:
    """Claim due pending emails (claim token, owner, lease; SKIP LOCKED on Postgres)."""
    now = utcnow()
    due = (
        select(_mail.id)
        .where(_mail.status == EMAIL_PENDING, _mail.next_attempt_at <= cutoff)
        .order_by(_mail.next_attempt_at, _mail.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name != "sqlite":
        due = due.with_for_update(skip_locked=True)
    statement = (
        update(email_outbox)
        .where(_mail.id.in_(due), _mail.status == EMAIL_PENDING, _mail.next_attempt_at <= cutoff)
        .values(
            claim_token=new_id(),
            claimed_by=owner,
            attempts=_mail.attempts + 1,
            next_attempt_at=now + lease,
            updated_at=now,
        )
        .returning(*email_outbox.c)
    )
    return list((await session.execute(statement)).all())


async def record_outcome(session: AsyncSession, row_id: str, claim_token: str, values: dict[str, Any]) -> bool:
    """Write a send's outcome while the claim is still ours."""
    written = (
        await session.execute(
            update(email_outbox)
            .where(and_(_mail.id == row_id, _mail.claim_token == claim_token))
            .values(**values, claim_token=None, claimed_by=None, updated_at=utcnow())
            .returning(_mail.id)
        )
    ).first()
    return written is not None


async def requeue_failed(session: AsyncSession) -> int:
    """Failed emails back to pending (reconcile); how many."""
    now = utcnow()
    result = await session.execute(
        update(email_outbox)
        .where(_mail.status == EMAIL_FAILED)
        .values(status=EMAIL_PENDING, attempts=0, next_attempt_at=now, updated_at=now)
        .returning(_mail.id)
    )
    return len(result.all())


async def order_for_email(session: AsyncSession, order_id: str) -> tuple[Any, list[Any]]:
    """The order (``email``, ``user_id``, totals, status) and its items, for composing an email."""
    order = (await session.execute(select(orders).where(orders.c.id == order_id))).one()
    items = (
        await session.execute(
            select(order_items.c.course_id, order_items.c.title, order_items.c.price_cents, order_items.c.currency)
            .where(order_items.c.order_id == order_id)
            .order_by(order_items.c.position)
        )
    ).all()
    return order, list(items)


async def emails_of_order(session: AsyncSession, order_id: str) -> list[Any]:
    """The order's email rows (tests, reconcile)."""
    return list((await session.execute(select(email_outbox).where(_mail.order_id == order_id))).all())
