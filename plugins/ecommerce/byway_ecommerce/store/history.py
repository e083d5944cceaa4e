"""SQL of what buyers and other plugins read about orders: ``myOrders`` and ``courseOrderCount``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from byway.db import iso_utc
from byway_ecommerce.models import order_items, orders


async def orders_of_student(session: AsyncSession, student_id: str, first: int) -> list[dict[str, Any]]:
    """The student's orders, newest first, as GraphQL ``Order`` dicts with their items."""
    rows = (
        await session.execute(
            select(orders)
            .where(orders.c.student_id == student_id)
            .order_by(orders.c.created_at.desc(), orders.c.id)
            .limit(first)
        )
    ).all()
    items: dict[str, list[dict[str, Any]]] = defaultdict(list)
    ids = [row.id for row in rows]
    if ids:
        statement = select(order_items).where(order_items.c.order_id.in_(ids)).order_by(order_items.c.position)
        for item in (await session.execute(statement)).all():
            items[item.order_id].append(
                {
                    "id": item.id,
                    "courseId": item.course_id,
                    "title": item.title,
                    "priceCents": item.price_cents,
                    "currency": item.currency,
                }
            )
    return [
        {
            "id": row.id,
            "studentId": row.student_id,
            "status": row.status,
            "totalCents": row.total_cents,
            "currency": row.currency,
            "items": items[row.id],
            "email": row.email,
            "createdAt": iso_utc(row.created_at),
            "paidAt": iso_utc(row.paid_at) if row.paid_at else None,
        }
        for row in rows
    ]


async def course_order_count(session: AsyncSession, course_id: str, statuses: Sequence[str]) -> int:
    """Orders in one of ``statuses`` holding an item of the course."""
    count = await session.scalar(
        select(func.count(distinct(orders.c.id)))
        .select_from(orders.join(order_items, order_items.c.order_id == orders.c.id))
        .where(order_items.c.course_id == course_id, orders.c.status.in_(statuses))
    )
    return int(count or 0)
