"""SQL of rate-limit events: one row per counted attempt, counted in a sliding window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from byway.db import new_id
from byway_authentication.models import rate_events


@dataclass(frozen=True)
class Window:
    """The events of one (scope, key) since a moment: how many, the oldest and the newest."""

    count: int
    oldest: datetime | None
    newest: datetime | None


async def window(session: AsyncSession, scope: str, key: str, since: datetime) -> Window:
    """Count the events of ``(scope, key)`` at or after ``since``."""
    row = (
        await session.execute(
            select(func.count(), func.min(rate_events.c.at), func.max(rate_events.c.at)).where(
                rate_events.c.scope == scope, rate_events.c.key == key, rate_events.c.at >= since
            )
        )
    ).one()
    return Window(int(row[0]), row[1], row[2])


async def add_event(session: AsyncSession, scope: str, key: str, at: datetime) -> None:
    """Count one event (nothing committed)."""
    await session.execute(rate_events.insert().values(id=new_id(), scope=scope, key=key, at=at))


async def clear(session: AsyncSession, scope: str, key: str) -> None:
    """Forget the events of ``(scope, key)`` (e.g. an account's failures after a good login)."""
    await session.execute(delete(rate_events).where(rate_events.c.scope == scope, rate_events.c.key == key))


async def prune(session: AsyncSession, *, before: datetime) -> None:
    """Delete events older than ``before`` (nothing committed)."""
    await session.execute(delete(rate_events).where(rate_events.c.at < before))
