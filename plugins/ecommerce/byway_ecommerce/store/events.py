"""SQL of processed webhook events: an event id is recorded in the transaction of its effect."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from byway import insert_for, utcnow
from byway_ecommerce.models import orders, processed_events


async def record_event(session: AsyncSession, event_id: str, event_type: str) -> bool:
    """Record an event id (``INSERT ... ON CONFLICT DO NOTHING RETURNING``); False for a duplicate."""
    first = (
        await session.execute(
            insert_for(session)(processed_events)
            .values(event_id=event_id, type=event_type, received_at=utcnow())
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(processed_events.c.event_id)
        )
    ).first()
    return first is not None


async def order_id_of_session(session: AsyncSession, session_id: str) -> str | None:
    """The id of the order a provider session belongs to."""
    return (await session.execute(select(orders.c.id).where(orders.c.provider_session_id == session_id))).scalar()
