"""Database access of ``teach-internal``: rows in, plain dicts out (the shapes the schema serves)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from byway.db import iso_utc, new_id, utcnow
from byway.runtime import PluginRuntime
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
        "createdAt": iso_utc(row.created_at),
    }


def module_record(row: Any) -> Record:
    """A ``Module`` as the schema serves it."""
    return {"id": row.id, "courseId": row.course_id, "title": row.title, "position": row.position}


def lesson_record(row: Any, course_id: str, teacher_id: str) -> Record:
    """A ``Lesson``; its content and course ownership stay private for ``Lesson.content`` to gate."""
    return {
        "id": row.id,
        "moduleId": row.module_id,
        "title": row.title,
        "preview": row.preview,
        "position": row.position,
        "_content": row.content,
        "_courseId": course_id,
        "_teacherId": teacher_id,
    }


async def get_course(session: AsyncSession, course_id: str, *, lock: bool = False) -> Record | None:
    """The course with this id, or None; ``lock`` holds its row until commit (Postgres)."""
    stmt = select(courses).where(courses.c.id == course_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).first()
    return course_record(row) if row else None


async def get_courses(session: AsyncSession, ids: Sequence[str]) -> dict[str, Record]:
    """The courses among ``ids`` that exist, by id."""
    rows = (await session.execute(select(courses).where(courses.c.id.in_(set(ids))))).all()
    return {row.id: course_record(row) for row in rows}


async def held_teacher_ids(plugin: PluginRuntime) -> list[str]:
    """The distinct authentication user ids that own courses (``Relation.held_ids`` for the audit)."""
    column = courses.c.teacher_id
    async with plugin.sessions() as session:
        return list((await session.execute(select(column).where(column.is_not(None)).distinct())).scalars())


async def published_page(session: AsyncSession, first: int, after: str | None) -> list[Record] | None:
    """Up to ``first`` published courses in (createdAt, id) order after course ``after``.

    Returns None when ``after`` names no course. The cursor may be a course that has since been
    unpublished: its position in the order is still well defined.
    """
    stmt = select(courses).where(courses.c.published.is_(True))
    if after is not None:
        cursor = (await session.execute(select(courses.c.created_at).where(courses.c.id == after))).first()
        if cursor is None:
            return None
        stmt = stmt.where(
            or_(
                courses.c.created_at > cursor.created_at,
                and_(courses.c.created_at == cursor.created_at, courses.c.id > after),
            )
        )
    stmt = stmt.order_by(courses.c.created_at, courses.c.id).limit(first)
    return [course_record(row) for row in (await session.execute(stmt)).all()]


async def courses_of_teacher(session: AsyncSession, teacher_id: str) -> list[Record]:
    """Every course of a teacher, published or not, oldest first."""
    stmt = select(courses).where(courses.c.teacher_id == teacher_id).order_by(courses.c.created_at, courses.c.id)
    return [course_record(row) for row in (await session.execute(stmt)).all()]


async def insert_course(
    session: AsyncSession,
    *,
    teacher_id: str,
    title: str,
    description: str | None,
    price_cents: int,
    currency: str,
    published: bool = False,
) -> Record:
    """Insert a course (not committed)."""
    stmt = (
        insert(courses)
        .values(
            id=new_id(),
            teacher_id=teacher_id,
            title=title,
            description=description,
            price_cents=price_cents,
            currency=currency,
            published=published,
            created_at=utcnow(),
        )
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


async def insert_module(session: AsyncSession, course_id: str, title: str) -> Record:
    """Append a module to a course (position = last + 1; not committed)."""
    next_position = (
        select(func.coalesce(func.max(modules.c.position), 0) + 1)
        .where(modules.c.course_id == course_id)
        .scalar_subquery()
    )
    stmt = (
        insert(modules)
        .values(id=new_id(), course_id=course_id, title=title, position=next_position)
        .returning(*modules.c)
    )
    return module_record((await session.execute(stmt)).one())


async def get_module_with_owner(session: AsyncSession, module_id: str, *, lock: bool = False) -> Any | None:
    """The module row with its course's ``teacher_id``, or None."""
    stmt = (
        select(modules, courses.c.teacher_id)
        .join(courses, courses.c.id == modules.c.course_id)
        .where(modules.c.id == module_id)
    )
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).first()


async def insert_lesson(
    session: AsyncSession,
    module: Any,
    *,
    title: str,
    content: str | None,
    preview: bool,
) -> Record:
    """Append a lesson to a module (position = last + 1; not committed)."""
    next_position = (
        select(func.coalesce(func.max(lessons.c.position), 0) + 1)
        .where(lessons.c.module_id == module.id)
        .scalar_subquery()
    )
    stmt = (
        insert(lessons)
        .values(id=new_id(), module_id=module.id, title=title, content=content, preview=preview, position=next_position)
        .returning(*lessons.c)
    )
    row = (await session.execute(stmt)).one()
    return lesson_record(row, module.course_id, module.teacher_id)


async def modules_of_courses(session: AsyncSession, course_ids: Sequence[str]) -> dict[str, list[Record]]:
    """The modules of several courses in one query, by course id, each list by position."""
    stmt = (
        select(modules)
        .where(modules.c.course_id.in_(set(course_ids)))
        .order_by(modules.c.course_id, modules.c.position, modules.c.id)
    )
    grouped: dict[str, list[Record]] = {cid: [] for cid in course_ids}
    for row in (await session.execute(stmt)).all():
        grouped[row.course_id].append(module_record(row))
    return grouped


async def lessons_of_modules(session: AsyncSession, module_ids: Sequence[str]) -> dict[str, list[Record]]:
    """The lessons of several modules in one query, by module id, each list by position."""
    stmt = (
        select(lessons, modules.c.course_id, courses.c.teacher_id)
        .join(modules, modules.c.id == lessons.c.module_id)
        .join(courses, courses.c.id == modules.c.course_id)
        .where(lessons.c.module_id.in_(set(module_ids)))
        .order_by(lessons.c.module_id, lessons.c.position, lessons.c.id)
    )
    grouped: dict[str, list[Record]] = {mid: [] for mid in module_ids}
    for row in (await session.execute(stmt)).all():
        grouped[row.module_id].append(lesson_record(row, row.course_id, row.teacher_id))
    return grouped
