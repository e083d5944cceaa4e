"""SQL of orders, their items, payments and the ``active_checkouts`` guard rows.

State changes are compare-and-set ``UPDATE ... RETURNING`` statements: of any number of racers
exactly one gets a row back, and only that one goes on to write what follows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from byway import insert_for, new_id, utcnow
from byway_ecommerce.models import (
    CANCELLED,
    PAID,
    PENDING,
    REVIEW,
    active_checkouts,
    order_items,
    orders,
)
from byway_ecommerce.observability import transition


@dataclass(frozen=True)
class NewLine:
    """One item of a new order: a snapshot of a course's title and price."""

    course_id: str
    title: str
    price_cents: int
    currency: str


@dataclass(frozen=True)
class PaidOrder:
    """What the compare-and-set that marked an order PAID read back."""

    id: str
    student_id: str
    total_cents: int
    currency: str
    superseded: bool


async def insert_order(
    session: AsyncSession,
    *,
    student_id: str,
    user_id: str | None,
    email: str | None,
    provider: str,
    success_url: str,
    cancel_url: str,
    lines: Sequence[NewLine],
) -> tuple[str, int]:
    """Insert a PENDING order, its snapshots and its guard rows; ``(order id, guard rows won)``.

    Guard rows are inserted in course-id order (``ON CONFLICT DO NOTHING``) so concurrent carts
    cannot deadlock on Postgres; fewer rows won than lines means another order holds a course.
    """
    order_id = new_id()
    now = utcnow()
    courses = {line.course_id for line in lines}
    await session.execute(
        insert(orders).values(
            id=order_id,
            student_id=student_id,
            user_id=user_id,
            email=email,
            status=PENDING,
            total_cents=sum(line.price_cents for line in lines),
            currency=lines[0].currency,
            provider=provider,
            success_url=success_url,
            cancel_url=cancel_url,
            created_at=now,
            updated_at=now,
        )
    )
    await session.execute(
        insert(order_items).values(
            [
                {
                    "id": new_id(),
                    "order_id": order_id,
                    "course_id": line.course_id,
                    "title": line.title,
                    "price_cents": line.price_cents,
                    "currency": line.currency,
                    "position": position,
                }
                for position, line in enumerate(lines)
            ]
        )
    )
    won = (
        await session.execute(
            insert_for(session)(active_checkouts)
            .values([_guard_row(student_id, course_id, order_id, now) for course_id in sorted(courses)])
            .on_conflict_do_nothing(index_elements=["student_id", "course_id"])
            .returning(active_checkouts.c.course_id)
        )
    ).all()
    transition(session, None, PENDING)  # counted if the caller commits (not when a course is taken)
    return order_id, len(won)


def _guard_row(student_id: str, course_id: str, order_id: str, now: datetime) -> dict[str, Any]:
    return {"student_id": student_id, "course_id": course_id, "order_id": order_id, "created_at": now}


async def release(session: AsyncSession, order_id: str) -> None:
    """Delete the order's guard rows (it left PENDING): its courses may be checked out again."""
    await session.execute(delete(active_checkouts).where(active_checkouts.c.order_id == order_id))


async def store_session_id(session: AsyncSession, order_id: str, session_id: str) -> bool:
    """Record the provider session of a PENDING order that has none yet; False if it moved on."""
    stored = (
        await session.execute(
            update(orders)
            .where(orders.c.id == order_id, orders.c.status == PENDING, orders.c.provider_session_id.is_(None))
            .values(provider_session_id=session_id, updated_at=utcnow())
            .returning(orders.c.id)
        )
    ).first()
    return stored is not None


async def cancel_pending(session: AsyncSession, order_id: str, *, without_session: bool = False) -> bool:
    """PENDING→CANCELLED and release (optionally only while no session id is stored); True if this call did it."""
    where = [orders.c.id == order_id, orders.c.status == PENDING]
    if without_session:
        where.append(orders.c.provider_session_id.is_(None))
    won = (
        await session.execute(
            update(orders).where(*where).values(status=CANCELLED, updated_at=utcnow()).returning(orders.c.id)
        )
    ).first()
    if won is not None:
        await release(session, order_id)
        transition(session, PENDING, CANCELLED)
    return won is not None


def _session_matches(session_id: str) -> Any:
    # An order whose session id is not stored yet (crash between creating the session and
    # saving its id) is still found through the order id the session carries.
    return or_(orders.c.provider_session_id.is_(None), orders.c.provider_session_id == session_id)


async def cancel_session(session: AsyncSession, order_id: str, session_id: str) -> bool:
    """PENDING→CANCELLED of the order of this (expired or failed) session, and release."""
    won = (
        await session.execute(
            update(orders)
            .where(orders.c.id == order_id, orders.c.status == PENDING, _session_matches(session_id))
            .values(status=CANCELLED, updated_at=utcnow())
            .returning(orders.c.id)
        )
    ).first()
    if won is not None:
        await release(session, order_id)
        transition(session, PENDING, CANCELLED)
    return won is not None


async def supersede(session: AsyncSession, order_id: str, *, session_stored: bool = True) -> bool:
    """PENDING→CANCELLED with ``superseded_at`` (``session_stored=False``: only while no session id is stored)."""
    now = utcnow()
    where = [orders.c.id == order_id, orders.c.status == PENDING]
    if not session_stored:
        where.append(orders.c.provider_session_id.is_(None))
    won = (
        await session.execute(
            update(orders)
            .where(*where)
            .values(status=CANCELLED, superseded_at=now, updated_at=now)
            .returning(orders.c.id)
        )
    ).first()
    if won is not None:
        await release(session, order_id)
        transition(session, PENDING, CANCELLED)
    return won is not None


async def mark_paid(session: AsyncSession, order_id: str, session_id: str) -> PaidOrder | None:
    """PENDING/CANCELLED→PAID for the order of this session (compare-and-set); None when another won."""
    now = utcnow()
    previous = await status_of(session, order_id)  # for the transition's label only
    won = (
        await session.execute(
            update(orders)
            .where(orders.c.id == order_id, orders.c.status.in_((PENDING, CANCELLED)), _session_matches(session_id))
            .values(
                status=PAID,
                paid_at=now,
                updated_at=now,
                provider_session_id=func.coalesce(orders.c.provider_session_id, session_id),
            )
            .returning(
                orders.c.id, orders.c.student_id, orders.c.total_cents, orders.c.currency, orders.c.superseded_at
            )
        )
    ).first()
    if won is None:
        return None
    transition(session, previous, PAID)
    return PaidOrder(won.id, won.student_id, won.total_cents, won.currency, won.superseded_at is not None)


async def set_review(session: AsyncSession, order_id: str, reason: str) -> None:
    """PAID→REVIEW (in the transaction that just marked it PAID): the payment does not match the order."""
    moved = await session.execute(
        update(orders)
        .where(orders.c.id == order_id, orders.c.status == PAID)
        .values(status=REVIEW, review_reason=reason[:300], updated_at=utcnow())
        .returning(orders.c.id)
    )
    if moved.first() is not None:
        transition(session, PAID, REVIEW)


async def resolve_review(session: AsyncSession, order_id: str, status: str) -> Any:
    """REVIEW→``status`` (PAID or REFUNDED), compare-and-set; the order's ``(id, student_id)`` or None."""
    won = (
        await session.execute(
            update(orders)
            .where(orders.c.id == order_id, orders.c.status == REVIEW)
            .values(status=status, updated_at=utcnow())
            .returning(orders.c.id, orders.c.student_id)
        )
    ).first()
    if won is not None:
        transition(session, REVIEW, status)
    return won


async def status_of(session: AsyncSession, order_id: str) -> str | None:
    """The order's status (None when unknown)."""
    return (await session.execute(select(orders.c.status).where(orders.c.id == order_id))).scalar()


async def superseded_at(session: AsyncSession, order_id: str) -> datetime | None:
    """When a newer checkout superseded the order (None if it was not)."""
    return (await session.execute(select(orders.c.superseded_at).where(orders.c.id == order_id))).scalar()


async def order_of_session(session: AsyncSession, session_id: str) -> Any:
    """``(id, status, user_id)`` of the order of a provider session, or None."""
    return (
        await session.execute(
            select(orders.c.id, orders.c.status, orders.c.user_id).where(orders.c.provider_session_id == session_id)
        )
    ).first()
