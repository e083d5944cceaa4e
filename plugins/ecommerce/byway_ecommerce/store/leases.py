"""SQL of claim owners: which processes hold rows, and freeing the rows of dead ones."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from byway import utcnow


async def claim_owners(session: AsyncSession, table: Table) -> list[str]:
    """The distinct owners of claimed rows of an outbox-like table."""
    statement = select(table.c.claimed_by).where(table.c.claimed_by.is_not(None)).distinct()
    return [str(owner) for owner in (await session.execute(statement)).scalars()]


async def free(session: AsyncSession, table: Table, owners: Sequence[str]) -> int:
    """Make the rows these owners claimed due now and unclaimed; returns how many."""
    now = utcnow()
    values: dict[str, object] = {"claimed_by": None, "next_attempt_at": now, "updated_at": now}
    if "claim_token" in table.c:
        values["claim_token"] = None
    result = await session.execute(
        update(table).where(table.c.claimed_by.in_(owners)).values(**values).returning(table.c.id)
    )
    return len(result.all())
