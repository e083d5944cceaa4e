"""SQL of what buyers, admins and other plugins read about orders: ``myOrders``, ``courseOrderCount``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from byway import iso_utc
from byway_ecommerce.models import order_items, orders


async def _as_orders(session: AsyncSession, statement: Select[Any]) -> list[dict[str, Any]]:
    """The orders a statement selects, as GraphQL ``Order`` dicts with their items."""
    rows = (await session.execute(statement)).all()
    items: dict[str, list[dict[str, Any]]] = defaultdict(list)
    ids = [row.id for row in rows]
    if ids:
        lines = select(order_items).where(order_items.c.order_id.in_(ids)).order_by(order_items.c.position)
        for item in (await session.execute(lines)).all():
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
            "reviewReason": row.review_reason,
        }
        for row in rows
    ]


async def list_orders(
    session: AsyncSession, *, first: int, student_id: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """Orders, newest first: of one student and/or in one status."""
    statement = select(orders).order_by(orders.c.created_at.desc(), orders.c.id).limit(first)
    if student_id is not None:
        statement = statement.where(orders.c.student_id == student_id)
    if status is not None:
        statement = statement.where(orders.c.status == status)
    return await _as_orders(session, statement)


async def orders_by_ids(session: AsyncSession, ids: Sequence[str]) -> list[dict[str, Any]]:
    """These orders (unknown ids are left out)."""
    return await _as_orders(session, select(orders).where(orders.c.id.in_(ids)))


async def course_order_count(session: AsyncSession, course_id: str, statuses: Sequence[str]) -> int:
    """Orders in one of ``statuses`` holding an item of the course."""
    count = await session.scalar(
        select(func.count(distinct(orders.c.id)))
        .select_from(orders.join(order_items, order_items.c.order_id == orders.c.id))
        .where(order_items.c.course_id == course_id, orders.c.status.in_(statuses))
    )
    return int(count or 0)


async def orders_in_review(session: AsyncSession, limit: int) -> list[Any]:
    """``(id, student_id, total_cents, currency, review_reason, paid_at)`` of orders in REVIEW, oldest first."""
    statement = (
        select(
            orders.c.id,
            orders.c.student_id,
            orders.c.total_cents,
            orders.c.currency,
            orders.c.review_reason,
            orders.c.paid_at,
        )
        .where(orders.c.status == "REVIEW")
        .order_by(orders.c.paid_at)
        .limit(limit)
    )
    return list((await session.execute(statement)).all())
