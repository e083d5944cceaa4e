"""SQL of refresh tokens (rotating, single use, in families) and one-time tokens of emailed links.

Only SHA-256 hashes of the secrets are stored: a leaked database gives no usable token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from byway.db import new_id
from byway_authentication.models import one_time_tokens, refresh_tokens


@dataclass(frozen=True)
class RefreshRow:
    """A stored refresh token (by its hash)."""

    id: str
    family_id: str
    user_id: str
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


async def add_refresh_token(
    session: AsyncSession, *, user_id: str, family_id: str, token_hash: str, now: datetime, ttl: timedelta
) -> None:
    """Store a refresh token of ``family_id`` (nothing committed)."""
    await session.execute(
        refresh_tokens.insert().values(
            id=new_id(),
            family_id=family_id,
            user_id=user_id,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + ttl,
        )
    )


async def refresh_by_hash(session: AsyncSession, token_hash: str) -> RefreshRow | None:
    """The refresh token with this hash, or None."""
    row = (
        await session.execute(
            select(
                refresh_tokens.c.id,
                refresh_tokens.c.family_id,
                refresh_tokens.c.user_id,
                refresh_tokens.c.expires_at,
                refresh_tokens.c.used_at,
                refresh_tokens.c.revoked_at,
            ).where(refresh_tokens.c.token_hash == token_hash)
        )
    ).first()
    return RefreshRow(*row) if row is not None else None


async def use_refresh_token(session: AsyncSession, token_id: str, now: datetime) -> bool:
    """Mark a live refresh token used; False when it was used or revoked meanwhile (nothing committed).

    A compare-and-set: of two concurrent refreshes with one token, exactly one wins.
    """
    result = await session.execute(
        update(refresh_tokens)
        .where(
            refresh_tokens.c.id == token_id,
            refresh_tokens.c.used_at.is_(None),
            refresh_tokens.c.revoked_at.is_(None),
        )
        .values(used_at=now)
        .returning(refresh_tokens.c.id)
    )
    return result.first() is not None


async def revoke_family(session: AsyncSession, family_id: str, now: datetime) -> int:
    """Revoke every live token of a family; how many (nothing committed)."""
    result = await session.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(refresh_tokens.c.id)
    )
    return len(result.all())


async def revoke_user_tokens(session: AsyncSession, user_id: str, now: datetime) -> int:
    """Revoke every refresh token of a user; how many were live (nothing committed)."""
    result = await session.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(refresh_tokens.c.id)
    )
    return len(result.all())


async def add_one_time_token(
    session: AsyncSession, *, user_id: str, purpose: str, token_hash: str, now: datetime, ttl: timedelta
) -> None:
    """Store a one-time token (nothing committed)."""
    await session.execute(
        one_time_tokens.insert().values(
            id=new_id(),
            user_id=user_id,
            purpose=purpose,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + ttl,
        )
    )


async def use_one_time_token(session: AsyncSession, *, purpose: str, token_hash: str, now: datetime) -> str | None:
    """Spend a live one-time token; the user id, or None when unknown, used or expired (nothing committed)."""
    result = await session.execute(
        update(one_time_tokens)
        .where(
            one_time_tokens.c.token_hash == token_hash,
            one_time_tokens.c.purpose == purpose,
            one_time_tokens.c.used_at.is_(None),
            one_time_tokens.c.expires_at > now,
        )
        .values(used_at=now)
        .returning(one_time_tokens.c.user_id)
    )
    user_id: str | None = result.scalar()
    return user_id


async def peek_one_time_token(session: AsyncSession, *, purpose: str, token_hash: str, now: datetime) -> str | None:
    """The user id of a live one-time token, without spending it (None when unknown, used or expired)."""
    user_id: str | None = await session.scalar(
        select(one_time_tokens.c.user_id).where(
            one_time_tokens.c.token_hash == token_hash,
            one_time_tokens.c.purpose == purpose,
            one_time_tokens.c.used_at.is_(None),
            one_time_tokens.c.expires_at > now,
        )
    )
    return user_id


async def spend_all_one_time_tokens(session: AsyncSession, *, user_id: str, purpose: str, now: datetime) -> None:
    """Mark every live token of ``purpose`` of the user used (e.g. older reset links after a reset)."""
    await session.execute(
        update(one_time_tokens)
        .where(
            one_time_tokens.c.user_id == user_id,
            one_time_tokens.c.purpose == purpose,
            one_time_tokens.c.used_at.is_(None),
        )
        .values(used_at=now)
    )


async def prune(session: AsyncSession, *, before: datetime) -> None:
    """Delete refresh and one-time tokens that expired before ``before`` (nothing committed)."""
    await session.execute(refresh_tokens.delete().where(refresh_tokens.c.expires_at < before))
    await session.execute(one_time_tokens.delete().where(one_time_tokens.c.expires_at < before))
