"""SQL of the dev payment provider: its Checkout Sessions and the events it owes the webhook."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from byway import insert_for, utcnow
from byway_ecommerce.models import DELIVERY_PENDING, dev_deliveries, dev_sessions

_deliveries = dev_deliveries.c


async def create_session(session: AsyncSession, values: dict[str, Any]) -> Any:
    """Insert an open session unless one has its idempotency key; the stored session either way."""
    await session.execute(
        insert_for(session)(dev_sessions).values(**values).on_conflict_do_nothing(index_elements=["idempotency_key"])
    )
    statement = select(dev_sessions).where(dev_sessions.c.idempotency_key == values["idempotency_key"])
    return (await session.execute(statement)).one()


async def get_session(session: AsyncSession, session_id: str) -> Any:
    """The stored session, or None."""
    return (await session.execute(select(dev_sessions).where(dev_sessions.c.id == session_id))).first()


async def complete(session: AsyncSession, session_id: str) -> bool:
    """Complete an open, unexpired session (compare-and-set); True if this call completed it."""
    changed = (
        await session.execute(
            update(dev_sessions)
            .where(
                dev_sessions.c.id == session_id,
                dev_sessions.c.status == "open",
                dev_sessions.c.expires_at > utcnow(),
            )
            .values(status="complete", payment_status="paid", payment_intent="pi_dev_" + secrets.token_hex(12))
            .returning(dev_sessions.c.id)
        )
    ).first()
    return changed is not None


async def expire(session: AsyncSession, session_id: str) -> bool:
    """Expire an open session (compare-and-set); True if this call expired it."""
    changed = (
        await session.execute(
            update(dev_sessions)
            .where(dev_sessions.c.id == session_id, dev_sessions.c.status == "open")
            .values(status="expired")
            .returning(dev_sessions.c.id)
        )
    ).first()
    return changed is not None


async def insert_delivery(
    session: AsyncSession, event: dict[str, Any], session_id: str, *, owner: str, lease: timedelta
) -> None:
    """Store an event the webhook is owed, claimed by ``owner`` for its first (inline) attempt."""
    now = utcnow()
    await session.execute(
        insert(dev_deliveries).values(
            id=event["id"],
            session_id=session_id,
            event=json.dumps(event, separators=(",", ":")),
            status=DELIVERY_PENDING,
            attempts=1,
            next_attempt_at=now + lease,
            claimed_by=owner,
            created_at=now,
            updated_at=now,
        )
    )


async def claim_deliveries(session: AsyncSession, *, limit: int, lease: timedelta, owner: str) -> list[Any]:
    """Claim due pending deliveries (owner and lease; SKIP LOCKED on Postgres)."""
    now = utcnow()
    due = (
        select(_deliveries.id)
        .where(_deliveries.status == DELIVERY_PENDING, _deliveries.next_attempt_at <= now)
        .order_by(_deliveries.next_attempt_at, _deliveries.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name != "sqlite":
        due = due.with_for_update(skip_locked=True)
    statement = (
        update(dev_deliveries)
        .where(_deliveries.id.in_(due), _deliveries.status == DELIVERY_PENDING, _deliveries.next_attempt_at <= now)
        .values(claimed_by=owner, attempts=_deliveries.attempts + 1, next_attempt_at=now + lease, updated_at=now)
        .returning(*dev_deliveries.c)
    )
    return list((await session.execute(statement)).all())


async def get_delivery(session: AsyncSession, event_id: str) -> Any:
    """A stored delivery, or None."""
    return (await session.execute(select(dev_deliveries).where(_deliveries.id == event_id))).first()


async def finish_delivery(session: AsyncSession, event_id: str, owner: str, values: dict[str, Any]) -> bool:
    """Record a delivery's outcome while ``owner`` still holds it."""
    written = (
        await session.execute(
            update(dev_deliveries)
            .where(_deliveries.id == event_id, _deliveries.claimed_by == owner)
            .values(**values, claimed_by=None, updated_at=utcnow())
            .returning(_deliveries.id)
        )
    ).first()
    return written is not None
