"""SQL of reconciliation: the window's PENDING orders, PAID items and their outbox rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from byway_ecommerce.models import (
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    OUTBOX_REVOKE_FAILED,
    OUTBOX_REVOKE_PENDING,
    PAID,
    PENDING,
    REFUNDED,
    enrollment_outbox,
    order_items,
    orders,
)

_box = enrollment_outbox.c
#: Outbox statuses of rows not finished yet.
UNFINISHED_ROWS = (OUTBOX_PENDING, OUTBOX_FAILED, OUTBOX_REVOKE_PENDING, OUTBOX_REVOKE_FAILED)


def _items_with_rows(*more: Any) -> Any:
    """Order items with their order's student and status and their outbox row (``row_id`` and
    ``row_status``, None when the row is lost), plus the columns ``more``."""
    return (
        select(
            order_items.c.id.label("item_id"),
            order_items.c.order_id,
            order_items.c.course_id,
            orders.c.student_id,
            orders.c.status.label("order_status"),
            _box.id.label("row_id"),
            _box.status.label("row_status"),
            *more,
        )
        .join(orders, orders.c.id == order_items.c.order_id)
        .outerjoin(enrollment_outbox, _box.order_item_id == order_items.c.id)
    )


async def pending_orders(session: AsyncSession, since: datetime, limit: int) -> list[Any]:
    """``(id, provider_session_id, created_at)`` of PENDING orders created since ``since``, oldest first."""
    statement = (
        select(orders.c.id, orders.c.provider_session_id, orders.c.created_at)
        .where(orders.c.status == PENDING, orders.c.created_at >= since)
        .order_by(orders.c.created_at)
        .limit(limit)
    )
    return list((await session.execute(statement)).all())


async def paid_items(session: AsyncSession, since: datetime) -> list[Any]:
    """Items of orders PAID since ``since`` with their outbox row (``row_id``/``row_status``, None when lost)."""
    statement = (
        _items_with_rows()
        .where(orders.c.status == PAID, orders.c.paid_at >= since)
        .order_by(orders.c.paid_at, order_items.c.position)
    )
    return list((await session.execute(statement)).all())


async def summary_rows(session: AsyncSession, since: datetime) -> list[Any]:
    """Items of the window's PAID/REFUNDED orders, plus every item whose outbox row is unfinished."""
    statement = (
        _items_with_rows(orders.c.superseded_at, _box.attempts, _box.last_error)
        .where(
            (and_(orders.c.status.in_((PAID, REFUNDED)), orders.c.paid_at >= since)) | _box.status.in_(UNFINISHED_ROWS)
        )
        .order_by(orders.c.paid_at, order_items.c.position)
    )
    return list((await session.execute(statement)).all())
