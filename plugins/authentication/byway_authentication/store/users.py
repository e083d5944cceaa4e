"""SQL of users and their roles (shared by resolvers, the CLI and the demo)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from byway.auth import ROLE_ADMIN, ROLE_STUDENT, ROLE_TEACHER
from byway.db import insert_for, iso_utc, new_id, utcnow
from byway.runtime import PluginRuntime
from byway_authentication.models import user_roles, users
from byway_authentication.validation import normalize_email

#: Roles that are stored; "student" is implicit for every user.
GRANTABLE_ROLES = (ROLE_TEACHER, ROLE_ADMIN)
ALL_ROLES = (ROLE_STUDENT, ROLE_TEACHER, ROLE_ADMIN)


@dataclass(frozen=True)
class UserRecord:
    """A user as stored, with its effective roles (always including "student")."""

    id: str
    email: str
    password_hash: str
    first_name: str | None
    last_name: str | None
    teacher_profile_id: str | None
    created_at: datetime
    roles: tuple[str, ...]
    display_name: str | None = None
    avatar_url: str | None = None
    email_verified_at: datetime | None = None

    @property
    def shown_name(self) -> str:
        """``displayName``: the chosen one, else "firstName lastName", else the email's local part."""
        names = " ".join(n for n in (self.first_name, self.last_name) if n)
        return self.display_name or names or self.email.rsplit("@", 1)[0]

    def to_graphql(self) -> dict[str, Any]:
        """The GraphQL ``User`` object (never the password hash)."""
        return {
            "id": self.id,
            "email": self.email,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "displayName": self.shown_name,
            "avatarUrl": self.avatar_url,
            "emailVerified": self.email_verified_at is not None,
            "roles": list(self.roles),
            "teacherProfileId": self.teacher_profile_id,
            "createdAt": iso_utc(self.created_at),
        }


def effective_roles(granted: Iterable[str]) -> tuple[str, ...]:
    """Sorted roles with the implicit "student"."""
    return tuple(sorted({ROLE_STUDENT, *granted}))


async def _roles_by_user(session: AsyncSession, user_ids: list[str]) -> dict[str, list[str]]:
    rows = (await session.execute(select(user_roles).where(user_roles.c.user_id.in_(user_ids)))).all()
    found: dict[str, list[str]] = {uid: [] for uid in user_ids}
    for row in rows:
        found[row.user_id].append(row.role)
    return found


async def _records(session: AsyncSession, rows: list[Any]) -> list[UserRecord]:
    roles = await _roles_by_user(session, [r.id for r in rows]) if rows else {}
    return [
        UserRecord(
            id=r.id,
            email=r.email,
            password_hash=r.password_hash,
            first_name=r.first_name,
            last_name=r.last_name,
            teacher_profile_id=r.teacher_profile_id,
            created_at=r.created_at,
            roles=effective_roles(roles[r.id]),
            display_name=r.display_name,
            avatar_url=r.avatar_url,
            email_verified_at=r.email_verified_at,
        )
        for r in rows
    ]


async def user_by_id(session: AsyncSession, user_id: str) -> UserRecord | None:
    """The user with ``user_id``, or None."""
    rows = (await session.execute(select(users).where(users.c.id == user_id))).all()
    records = await _records(session, list(rows))
    return records[0] if records else None


async def users_by_ids(session: AsyncSession, user_ids: Iterable[str]) -> dict[str, UserRecord]:
    """The users among ``user_ids`` that exist, by id (one query for the users, one for their roles)."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    rows = (await session.execute(select(users).where(users.c.id.in_(wanted)))).all()
    return {record.id: record for record in await _records(session, list(rows))}


async def linked_teacher_profile_ids(plugin: PluginRuntime) -> list[str]:
    """The distinct teach.TeacherProfile ids users are linked to (``Relation.held_ids`` for the audit)."""
    column = users.c.teacher_profile_id
    async with plugin.sessions() as session:
        return list((await session.execute(select(column).where(column.is_not(None)).distinct())).scalars())


async def user_by_email(session: AsyncSession, email: str) -> UserRecord | None:
    """The user with this email (compared case-insensitively), or None."""
    rows = (await session.execute(select(users).where(users.c.email_normalized == normalize_email(email)))).all()
    records = await _records(session, list(rows))
    return records[0] if records else None


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password_hash: str,
    first_name: str | None,
    last_name: str | None,
) -> str | None:
    """Insert a user; its id, or None when the email is already registered (nothing committed).

    The unique index on the normalised email decides, so of two concurrent sign-ups exactly one wins.
    """
    user_id = new_id()
    stmt = (
        insert_for(session)(users)
        .values(
            id=user_id,
            email=email,
            email_normalized=normalize_email(email),
            password_hash=password_hash,
            first_name=first_name,
            last_name=last_name,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["email_normalized"])
        .returning(users.c.id)
    )
    created: str | None = await session.scalar(stmt)
    return created


async def grant_role(session: AsyncSession, user_id: str, role: str) -> None:
    """Grant a stored role (idempotent; nothing committed)."""
    if role not in GRANTABLE_ROLES:
        raise ValueError(f"role {role!r} cannot be granted")
    stmt = (
        insert_for(session)(user_roles)
        .values(user_id=user_id, role=role, granted_at=utcnow())
        .on_conflict_do_nothing(index_elements=["user_id", "role"])
    )
    await session.execute(stmt)


async def revoke_role(session: AsyncSession, user_id: str, role: str) -> bool:
    """Remove a stored role; True if it was held (nothing committed)."""
    removed = await session.execute(
        delete(user_roles)
        .where(user_roles.c.user_id == user_id, user_roles.c.role == role)
        .returning(user_roles.c.role)
    )
    return removed.first() is not None


async def set_password_hash(session: AsyncSession, user_id: str, password_hash: str) -> None:
    """Replace a user's password hash (nothing committed)."""
    await session.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


async def update_profile(session: AsyncSession, user_id: str, changes: dict[str, str | None]) -> bool:
    """Set some of ``first_name``, ``last_name``, ``display_name``, ``avatar_url``; True if the user exists."""
    allowed = {"first_name", "last_name", "display_name", "avatar_url"}
    if set(changes) - allowed:
        raise ValueError(f"not profile columns: {sorted(set(changes) - allowed)}")
    stmt = update(users).where(users.c.id == user_id).returning(users.c.id)
    result = await session.execute(stmt.values(**changes) if changes else stmt.values(id=users.c.id))
    return result.first() is not None


async def mark_email_verified(session: AsyncSession, user_id: str) -> None:
    """Record that the user proved they read mail at their address (kept if already set; nothing committed)."""
    await session.execute(
        update(users)
        .where(users.c.id == user_id, users.c.email_verified_at.is_(None))
        .values(email_verified_at=utcnow())
    )


async def set_teacher_profile(session: AsyncSession, user_id: str, teacher_profile_id: str) -> bool:
    """Point the user at a teacher profile; True if the user exists (nothing committed)."""
    result = await session.execute(
        update(users).where(users.c.id == user_id).values(teacher_profile_id=teacher_profile_id).returning(users.c.id)
    )
    return result.first() is not None
