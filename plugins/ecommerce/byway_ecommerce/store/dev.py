"""SQL of the dev payment provider: its Checkout Sessions, kept in ecommerce's own database."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from byway.db import insert_for, utcnow
from byway_ecommerce.models import dev_sessions


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
