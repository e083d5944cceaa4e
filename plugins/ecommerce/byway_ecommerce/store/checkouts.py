"""SQL of a new checkout's look at the buyer's other orders of the same courses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from byway_ecommerce.models import PAID, PENDING, REVIEW, active_checkouts, order_items, orders

#: Recent PENDING orders of the buyer looked at per round.
MAX_CANDIDATES = 20


@dataclass
class Candidate:
    """A PENDING (or stale) order of the buyer overlapping the cart."""

    id: str
    status: str
    session_id: str | None
    created_at: datetime
    email: str | None
    success_url: str
    cancel_url: str
    priced: frozenset[tuple[str, int, str]]
    holds: set[str]

    @property
    def course_ids(self) -> set[str]:
        """The order's courses."""
        return {course_id for course_id, _, _ in self.priced}


async def paid_courses(session: AsyncSession, student_id: str, course_ids: Sequence[str]) -> dict[str, str]:
    """Which of the courses the student holds in a PAID order, or in one held for REVIEW: ``{course: status}``
    (PAID wins)."""
    statement = (
        select(order_items.c.course_id, orders.c.status)
        .join(orders, orders.c.id == order_items.c.order_id)
        .where(
            orders.c.student_id == student_id,
            orders.c.status.in_((PAID, REVIEW)),
            order_items.c.course_id.in_(course_ids),
        )
    )
    found: dict[str, str] = {}
    for course_id, status in (await session.execute(statement)).all():
        if found.get(course_id) != PAID:
            found[course_id] = status
    return found


async def candidates(
    session: AsyncSession, student_id: str, course_ids: Sequence[str], since: datetime
) -> list[Candidate]:
    """The orders holding the courses' guard rows plus the student's recent PENDING orders with any of
    them, oldest first."""
    held = (
        await session.execute(
            select(active_checkouts.c.course_id, active_checkouts.c.order_id).where(
                active_checkouts.c.student_id == student_id, active_checkouts.c.course_id.in_(course_ids)
            )
        )
    ).all()
    recent = (
        await session.execute(
            select(orders.c.id)
            .distinct()
            .join(order_items, order_items.c.order_id == orders.c.id)
            .where(
                orders.c.student_id == student_id,
                orders.c.status == PENDING,
                orders.c.created_at >= since,
                order_items.c.course_id.in_(course_ids),
            )
            .limit(MAX_CANDIDATES)
        )
    ).scalars()
    ids = {row.order_id for row in held} | set(recent)
    if not ids:
        return []
    found = (await session.execute(select(orders).where(orders.c.id.in_(ids)))).all()
    items = (
        await session.execute(
            select(
                order_items.c.order_id, order_items.c.course_id, order_items.c.price_cents, order_items.c.currency
            ).where(order_items.c.order_id.in_(ids))
        )
    ).all()
    return [
        Candidate(
            id=row.id,
            status=row.status,
            session_id=row.provider_session_id,
            created_at=row.created_at,
            email=row.email,
            success_url=row.success_url,
            cancel_url=row.cancel_url,
            priced=frozenset((i.course_id, i.price_cents, i.currency) for i in items if i.order_id == row.id),
            holds={h.course_id for h in held if h.order_id == row.id},
        )
        for row in sorted(found, key=lambda r: r.created_at)
    ]


async def any_still_opening(session: AsyncSession, order_ids: Sequence[str]) -> bool:
    """Whether any of these orders is PENDING without a stored session id (its creator is still at it)."""
    waiting = (
        await session.execute(
            select(orders.c.id).where(
                orders.c.id.in_(order_ids), orders.c.status == PENDING, orders.c.provider_session_id.is_(None)
            )
        )
    ).first()
    return waiting is not None
