"""All SQL of the ``notifications`` plugin: storing, claiming and settling messages, and listing them."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from byway.db import insert_for, iso_utc, new_id, utcnow
from byway.metrics import on_commit, plugin_of
from byway_notifications.models import messages
from byway_notifications.transports import Outgoing

PENDING, SENT, FAILED = "pending", "sent", "failed"


def normalize_address(address: str) -> str:
    """The form addresses are matched in: NFKC, trimmed, case-folded (as ``authentication`` stores emails)."""
    return unicodedata.normalize("NFKC", address).strip().casefold()


@dataclass(frozen=True)
class NewMessage:
    """What ``sendEmail`` was asked to send."""

    sender: str
    key: str | None
    to: str
    subject: str
    text: str
    html: str | None


async def add_message(session: AsyncSession, message: NewMessage) -> str | None:
    """Store a pending message; its id, or None when ``(sender, key)`` is already stored (nothing committed)."""
    now = utcnow()
    stmt = (
        insert_for(session)(messages)
        .values(
            id=new_id(),
            sender=message.sender,
            idem_key=message.key,
            to_address=message.to,
            to_normalized=normalize_address(message.to),
            subject=message.subject,
            text=message.text,
            html=message.html,
            status=PENDING,
            attempts=0,
            permanent_failures=0,
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["sender", "idem_key"])
        .returning(messages.c.id)
    )
    created: str | None = await session.scalar(stmt)
    if created is not None:
        _count(session, "emails_queued_total", "Emails queued (stored for delivery)")
    return created


def _count(session: AsyncSession, name: str, documentation: str) -> None:
    """Count ``byway_notifications_<name>`` once the session's transaction commits."""
    plugin = plugin_of(session)
    if plugin is not None:
        on_commit(session, plugin.metrics.counter(name, documentation).inc)


async def claim_due(session: AsyncSession, *, now: datetime, lease: timedelta, limit: int) -> list[Outgoing]:
    """Claim up to ``limit`` due pending messages for ``lease`` (committed), oldest first.

    Each claim is a compare-and-set on ``attempts``, so two workers (processes, hosts)
    never claim one message at the same time; a claim that is never settled expires with its lease.
    """
    due = (
        await session.execute(
            select(messages.c.id, messages.c.attempts)
            .where(messages.c.status == PENDING, messages.c.next_attempt_at <= now)
            .order_by(messages.c.created_at)
            .limit(limit)
        )
    ).all()
    claimed: list[Outgoing] = []
    for row in due:
        result = await session.execute(
            update(messages)
            .where(
                messages.c.id == row.id,
                messages.c.status == PENDING,
                messages.c.next_attempt_at <= now,
                messages.c.attempts == row.attempts,
            )
            .values(next_attempt_at=now + lease, attempts=messages.c.attempts + 1)
            .returning(
                messages.c.id,
                messages.c.to_address,
                messages.c.subject,
                messages.c.text,
                messages.c.html,
                messages.c.created_at,
            )
        )
        got = result.first()
        if got is not None:
            claimed.append(Outgoing(got.id, got.to_address, got.subject, got.text, got.html, got.created_at))
    await session.commit()
    return claimed


async def mark_sent(session: AsyncSession, message_id: str, transport: str, *, now: datetime) -> None:
    """The message went out (nothing committed)."""
    await session.execute(
        update(messages)
        .where(messages.c.id == message_id)
        .values(status=SENT, transport=transport, sent_at=now, last_error=None)
    )
    _count(session, "emails_sent_total", "Emails the transport accepted (SMTP server or dev mailbox)")


@dataclass(frozen=True)
class FailureOutcome:
    """What a failed attempt led to: ``failed`` for good, or the next attempt's time."""

    failed: bool
    attempts: int
    next_attempt_at: datetime | None


async def record_failure(
    session: AsyncSession,
    message_id: str,
    error: str,
    *,
    permanent: bool,
    now: datetime,
    retry_base: float,
    retry_max: float,
    max_permanent: int,
    give_up_after: float,
) -> FailureOutcome:
    """Count a failed attempt: back off exponentially, or mark ``failed`` when out of chances (nothing committed)."""
    _count(session, "email_attempts_failed_total", "Delivery attempts that failed (retried, or the last one)")
    row = (
        await session.execute(
            select(messages.c.attempts, messages.c.permanent_failures, messages.c.created_at).where(
                messages.c.id == message_id
            )
        )
    ).one()
    permanent_failures = row.permanent_failures + (1 if permanent else 0)
    too_old = now - row.created_at >= timedelta(seconds=give_up_after)
    if permanent_failures >= max_permanent or too_old:
        await session.execute(
            update(messages)
            .where(messages.c.id == message_id)
            .values(status=FAILED, permanent_failures=permanent_failures, last_error=error[:2000])
        )
        _count(session, "emails_failed_total", "Emails given up (marked failed)")
        return FailureOutcome(True, row.attempts, None)
    delay = min(retry_max, retry_base * 2 ** max(0, row.attempts - 1))
    next_at = now + timedelta(seconds=delay)
    await session.execute(
        update(messages)
        .where(messages.c.id == message_id)
        .values(permanent_failures=permanent_failures, last_error=error[:2000], next_attempt_at=next_at)
    )
    return FailureOutcome(False, row.attempts, next_at)


def _as_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "sender": row.sender,
        "key": row.idem_key,
        "to": row.to_address,
        "subject": row.subject,
        "text": row.text,
        "html": row.html,
        "status": row.status,
        "transport": row.transport,
        "attempts": row.attempts,
        "lastError": row.last_error,
        "createdAt": iso_utc(row.created_at),
        "sentAt": iso_utc(row.sent_at) if row.sent_at else None,
    }


async def list_messages(session: AsyncSession, *, to: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Stored messages, newest first (optionally only those to ``to``, matched normalised)."""
    stmt = select(messages).order_by(messages.c.created_at.desc(), messages.c.id.desc()).limit(limit)
    if to is not None:
        stmt = stmt.where(messages.c.to_normalized == normalize_address(to))
    return [_as_dict(row) for row in (await session.execute(stmt)).all()]
