"""All SQL of ``teach``: reading and writing teacher profiles (shared by resolvers and the demo)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from byway import Principal, insert_for, iso_utc, new_id, utcnow
from byway_teach.models import teacher_profiles

MAX_ID_LENGTH = 64


@dataclass(frozen=True)
class Profile:
    """A teacher profile as stored."""

    id: str
    user_id: str
    bio: str
    subjects: tuple[str, ...]
    avatar_url: str | None
    payout_email: str | None
    verified: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Profile:
        """The profile of a ``teacher_profiles`` row."""
        return cls(
            id=row.id,
            user_id=row.user_id,
            bio=row.bio,
            subjects=tuple(row.subjects or ()),
            avatar_url=row.avatar_url,
            payout_email=row.payout_email,
            verified=bool(row.verified),
            created_at=row.created_at,
        )

    def is_private_to(self, principal: Principal) -> bool:
        """True when ``principal`` may see everything: the owner, an admin or a service."""
        return principal.is_service or principal.is_admin or (principal.is_user and principal.user_id == self.user_id)

    def view_for(self, principal: Principal) -> dict[str, Any] | None:
        """The GraphQL ``TeacherProfile`` as ``principal`` may see it.

        Unverified profiles are seen only by the owner, admins and services (None for others);
        ``avatarUrl`` and ``payoutEmail`` are null for everyone else.
        """
        private = self.is_private_to(principal)
        if not self.verified and not private:
            return None
        return {
            "id": self.id,
            "userId": self.user_id,
            "bio": self.bio,
            "subjects": list(self.subjects),
            "avatarUrl": self.avatar_url if private else None,
            "payoutEmail": self.payout_email if private else None,
            "verified": self.verified,
            "createdAt": iso_utc(self.created_at),
        }


async def insert_profile(
    session: AsyncSession,
    *,
    user_id: str,
    bio: str,
    subjects: list[str],
    avatar_url: str | None,
    payout_email: str | None,
    verified: bool = False,
) -> Profile | None:
    """Insert the user's profile; None when the user already has one (nothing committed)."""
    moment = utcnow()
    stmt = (
        insert_for(session)(teacher_profiles)
        .values(
            id=new_id(),
            user_id=user_id,
            bio=bio,
            subjects=subjects,
            avatar_url=avatar_url,
            payout_email=payout_email,
            verified=verified,
            verified_at=moment if verified else None,
            created_at=moment,
        )
        .on_conflict_do_nothing(index_elements=["user_id"])
        .returning(*teacher_profiles.c)
    )
    row = (await session.execute(stmt)).first()
    return Profile.from_row(row) if row else None


async def profile_by_id(session: AsyncSession, profile_id: str) -> Profile | None:
    """The profile with this id, or None."""
    if len(profile_id) > MAX_ID_LENGTH:
        return None
    row = (await session.execute(select(teacher_profiles).where(teacher_profiles.c.id == profile_id))).first()
    return Profile.from_row(row) if row else None


async def profiles_by_ids(session: AsyncSession, profile_ids: Iterable[str]) -> dict[str, Profile]:
    """The profiles among ``profile_ids`` that exist, by id (one query)."""
    wanted = {profile_id for profile_id in profile_ids if len(profile_id) <= MAX_ID_LENGTH}
    if not wanted:
        return {}
    rows = (await session.execute(select(teacher_profiles).where(teacher_profiles.c.id.in_(wanted)))).all()
    return {row.id: Profile.from_row(row) for row in rows}


async def profile_of_user(session: AsyncSession, user_id: str) -> Profile | None:
    """The profile owned by ``user_id``, or None."""
    row = (await session.execute(select(teacher_profiles).where(teacher_profiles.c.user_id == user_id))).first()
    return Profile.from_row(row) if row else None


async def delete_profile(session: AsyncSession, profile_id: str) -> bool:
    """Delete a profile; True if it existed (nothing committed)."""
    result = await session.execute(
        delete(teacher_profiles).where(teacher_profiles.c.id == profile_id).returning(teacher_profiles.c.id)
    )
    return result.first() is not None


async def mark_verified(session: AsyncSession, profile_id: str) -> Profile | None:
    """Mark a profile verified (idempotent: the first verification time is kept); None if unknown."""
    if len(profile_id) > MAX_ID_LENGTH:
        return None
    stmt = (
        update(teacher_profiles)
        .where(teacher_profiles.c.id == profile_id)
        .values(verified=True, verified_at=func.coalesce(teacher_profiles.c.verified_at, utcnow()))
        .returning(*teacher_profiles.c)
    )
    row = (await session.execute(stmt)).first()
    return Profile.from_row(row) if row else None
