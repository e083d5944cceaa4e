"""Courses: create, change, delete, and read by id or by teacher."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

import byway
from byway_teach_internal.models import courses, lessons, modules

Record = dict[str, Any]


def course_record(row: Any) -> Record:
    """A ``Course`` as the schema serves it."""
    return {
        "id": row.id,
        "teacherId": row.teacher_id,
        "title": row.title,
        "description": row.description,
        "priceCents": row.price_cents,
        "currency": row.currency,
        "published": row.published,
        "createdAt": byway.iso_utc(row.created_at),
        "category": row.category,
        "difficulty": row.difficulty,
        "coverUrl": row.cover_url,
    }


async def get_course(session: AsyncSession, course_id: str) -> Record | None:
    """The course with this id, or None."""
    row = (await session.execute(select(*courses.c).where(courses.c.id == course_id))).first()
    return course_record(row) if row else None


async def get_courses(session: AsyncSession, ids: Sequence[str]) -> dict[str, Record]:
    """The courses among ``ids`` that exist, by id."""
    rows = (await session.execute(select(*courses.c).where(courses.c.id.in_(set(ids))))).all()
    return {row.id: course_record(row) for row in rows}


async def courses_of_teacher(session: AsyncSession, teacher_id: str) -> list[Record]:
    """Every course of a teacher, published or not, oldest first."""
    stmt = select(*courses.c).where(courses.c.teacher_id == teacher_id).order_by(courses.c.created_at, courses.c.id)
    return [course_record(row) for row in (await session.execute(stmt)).all()]


async def insert_course(session: AsyncSession, *, teacher_id: str, published: bool = False, **values: Any) -> Record:
    """Insert a course (not committed); ``values`` are columns (title, description, price_cents, ...)."""
    stmt = (
        insert(courses)
        .values(id=byway.new_id(), teacher_id=teacher_id, published=published, created_at=byway.utcnow(), **values)
        .returning(*courses.c)
    )
    return course_record((await session.execute(stmt)).one())


async def update_course(session: AsyncSession, course_id: str, values: dict[str, Any]) -> Record:
    """Apply column ``values`` to a course (not committed) and return it."""
    stmt = update(courses).where(courses.c.id == course_id).values(**values).returning(*courses.c)
    return course_record((await session.execute(stmt)).one())


async def delete_course(session: AsyncSession, course_id: str) -> bool:
    """Delete a course with its modules and lessons (not committed); True if it existed.

    Explicit deletes rather than relying on ``ON DELETE CASCADE``, which SQLite only honours with
    its foreign-key pragma on.
    """
    module_ids = select(modules.c.id).where(modules.c.course_id == course_id)
    await session.execute(delete(lessons).where(lessons.c.module_id.in_(module_ids)))
    await session.execute(delete(modules).where(modules.c.course_id == course_id))
    deleted = (await session.execute(delete(courses).where(courses.c.id == course_id).returning(courses.c.id))).first()
    return deleted is not None
