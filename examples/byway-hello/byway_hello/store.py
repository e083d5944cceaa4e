"""All SQL of ``hello``: functions taking a session and returning plain dicts."""

from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

import byway
from byway_hello.models import greetings


def _greeting(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "message": row.message, "authorId": row.author_id}


async def latest_greetings(session: AsyncSession, first: int) -> list[dict[str, Any]]:
    """The ``first`` latest greetings, newest first."""
    stmt = select(greetings).order_by(greetings.c.created_at.desc(), greetings.c.id).limit(first)
    return [_greeting(row) for row in (await session.execute(stmt)).all()]


async def add_greeting(session: AsyncSession, *, name: str, message: str, author_id: str) -> dict[str, Any]:
    """Insert a greeting (not committed)."""
    values = {"id": byway.new_id(), "name": name, "message": message, "author_id": author_id}
    row = (
        await session.execute(insert(greetings).values(**values, created_at=byway.utcnow()).returning(*greetings.c))
    ).one()
    return _greeting(row)


async def count_greetings(session: AsyncSession) -> int:
    """How many greetings are stored."""
    return int(await session.scalar(select(func.count()).select_from(greetings)) or 0)
