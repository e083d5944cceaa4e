"""SQL of the email outbox: rows written with the state change, claimed and settled by the job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from byway.db import new_id
from byway_authentication.models import email_outbox

PENDING, SENT, SKIPPED, FAILED = "pending", "sent", "skipped", "failed"
VERIFY, RESET = "verify", "reset"


@dataclass(frozen=True)
class OutboxRow:
    """A claimed outbox entry."""

    id: str
    kind: str
    user_id: str | None
    email_normalized: str | None
    message: str | None
    attempts: int
    created_at: datetime


async def add(
    session: AsyncSession, kind: str, *, now: datetime, user_id: str | None = None, email: str | None = None
) -> str:
    """Queue an email of ``kind`` for a user (verification) or an address (reset); its id (nothing committed)."""
    entry_id = new_id()
    await session.execute(
        email_outbox.insert().values(
            id=entry_id,
            kind=kind,
            user_id=user_id,
            email_normalized=email,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return entry_id


async def claim_due(session: AsyncSession, *, now: datetime, lease: timedelta, limit: int) -> list[OutboxRow]:
    """Claim up to ``limit`` due entries for ``lease`` (committed); a compare-and-set on ``attempts`` each."""
    due = (
        await session.execute(
            select(email_outbox.c.id, email_outbox.c.attempts)
            .where(email_outbox.c.status == PENDING, email_outbox.c.next_attempt_at <= now)
            .order_by(email_outbox.c.created_at)
            .limit(limit)
        )
    ).all()
    claimed: list[OutboxRow] = []
    for row in due:
        got = (
            await session.execute(
                update(email_outbox)
                .where(
                    email_outbox.c.id == row.id,
                    email_outbox.c.status == PENDING,
                    email_outbox.c.attempts == row.attempts,
                    email_outbox.c.next_attempt_at <= now,
                )
                .values(attempts=email_outbox.c.attempts + 1, next_attempt_at=now + lease)
                .returning(
                    email_outbox.c.id,
                    email_outbox.c.kind,
                    email_outbox.c.user_id,
                    email_outbox.c.email_normalized,
                    email_outbox.c.message,
                    email_outbox.c.attempts,
                    email_outbox.c.created_at,
                )
            )
        ).first()
        if got is not None:
            claimed.append(OutboxRow(*got))
    await session.commit()
    return claimed


async def set_message(session: AsyncSession, entry_id: str, message: str) -> None:
    """Keep the rendered email until it is handed over (nothing committed)."""
    await session.execute(update(email_outbox).where(email_outbox.c.id == entry_id).values(message=message))


async def settle(session: AsyncSession, entry_id: str, status: str, *, now: datetime, error: str | None = None) -> None:
    """Finish an entry (sent, skipped or failed); the rendered email and its secret are dropped."""
    await session.execute(
        update(email_outbox)
        .where(email_outbox.c.id == entry_id)
        .values(status=status, sent_at=now if status == SENT else None, message=None, last_error=error)
    )


async def retry_later(session: AsyncSession, entry_id: str, *, at: datetime, error: str) -> None:
    """Try again at ``at`` (nothing committed)."""
    await session.execute(
        update(email_outbox).where(email_outbox.c.id == entry_id).values(next_attempt_at=at, last_error=error[:2000])
    )


async def prune(session: AsyncSession, *, before: datetime) -> None:
    """Delete settled entries created before ``before`` (they hold the addresses asked about; nothing committed)."""
    await session.execute(
        email_outbox.delete().where(email_outbox.c.status != PENDING, email_outbox.c.created_at < before)
    )
