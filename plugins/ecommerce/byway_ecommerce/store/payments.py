"""SQL of payments and refunds: the money trail of an order."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from byway import insert_for, new_id, utcnow
from byway_ecommerce.models import (
    OUTBOX_REVOKE_FAILED,
    OUTBOX_REVOKE_PENDING,
    OUTBOX_REVOKED,
    PAID,
    REFUNDED,
    REVIEW,
    enrollment_outbox,
    order_items,
    orders,
    payments,
)
from byway_ecommerce.observability import transition


async def insert_payment(
    session: AsyncSession,
    *,
    order_id: str,
    reference: str,
    amount_cents: int,
    currency: str,
    source: str,
    event_id: str | None,
    raw: dict[str, Any],
) -> None:
    """The order's Payment (one per order and per provider reference; a repeat is a no-op)."""
    now = utcnow()
    await session.execute(
        insert_for(session)(payments)
        .values(
            id=new_id(),
            order_id=order_id,
            provider_reference=reference,
            amount_cents=amount_cents,
            currency=currency,
            status="succeeded",
            amount_refunded_cents=0,
            source=source,
            event_id=event_id,
            raw=json.dumps(raw, default=str),
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing()
    )


async def duplicate_orders(session: AsyncSession, order_id: str, student_id: str) -> dict[str, list[str]]:
    """Other PAID orders of the student sharing a course with this order: ``{order id: [course ids]}``."""
    mine = select(order_items.c.course_id).where(order_items.c.order_id == order_id)
    rows = (
        await session.execute(
            select(orders.c.id, order_items.c.course_id)
            .join(order_items, order_items.c.order_id == orders.c.id)
            .where(
                orders.c.student_id == student_id,
                orders.c.status == PAID,
                orders.c.id != order_id,
                order_items.c.course_id.in_(mine),
            )
            .order_by(orders.c.id, order_items.c.course_id)
        )
    ).all()
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row.id, []).append(row.course_id)
    return found


async def record_refund(session: AsyncSession, reference: str, *, full: bool, refunded_cents: int | None) -> str | None:
    """Record a (full or partial) refund on the Payment with this reference; its order id, or None if unknown."""
    payment = (
        await session.execute(
            update(payments)
            .where(payments.c.provider_reference == reference)
            .values(
                status="refunded" if full else "partially_refunded",
                amount_refunded_cents=refunded_cents if refunded_cents is not None else payments.c.amount_cents,
                updated_at=utcnow(),
            )
            .returning(payments.c.order_id)
        )
    ).first()
    return None if payment is None else str(payment.order_id)


async def mark_refunded(session: AsyncSession, order_id: str) -> bool:
    """PAID (or REVIEW)→REFUNDED and the order's outbox rows turned into revocations; False if neither.

    A row a worker holds right now keeps its lease end as due time, so the revocation runs after
    the enrollment call can have landed.
    """
    now = utcnow()
    previous = (await session.execute(select(orders.c.status).where(orders.c.id == order_id))).scalar()
    won = (
        await session.execute(
            update(orders)
            .where(orders.c.id == order_id, orders.c.status.in_((PAID, REVIEW)))
            .values(status=REFUNDED, updated_at=now)
            .returning(orders.c.id)
        )
    ).first()
    if won is None:
        return False
    transition(session, previous, REFUNDED)
    box = enrollment_outbox.c
    await session.execute(
        update(enrollment_outbox)
        .where(
            box.order_id == order_id,
            box.status.not_in((OUTBOX_REVOKE_PENDING, OUTBOX_REVOKED, OUTBOX_REVOKE_FAILED)),
        )
        .values(
            status=OUTBOX_REVOKE_PENDING,
            attempts=0,
            last_error=None,
            next_attempt_at=case((box.claim_token.is_not(None), box.next_attempt_at), else_=now),
            claim_token=None,
            claimed_by=None,
            updated_at=now,
        )
    )
    return True


async def mark_refunded_by_hand(session: AsyncSession, order_id: str) -> None:
    """The order's Payment refunded outside Byway (an admin resolved a review by refunding it)."""
    await session.execute(
        update(payments)
        .where(payments.c.order_id == order_id)
        .values(status="refunded", amount_refunded_cents=payments.c.amount_cents, updated_at=utcnow())
    )


async def payment_of(session: AsyncSession, order_id: str) -> Any:
    """``(amount_cents, currency, status, provider_reference)`` of the order's Payment, or None."""
    statement = select(
        payments.c.amount_cents, payments.c.currency, payments.c.status, payments.c.provider_reference
    ).where(payments.c.order_id == order_id)
    return (await session.execute(statement)).first()
