"""Database access of ``students-internal``: idempotent upserts and the queries the API serves.

Uniqueness is the database's job: students are unique per user and enrollments per (student,
course). Creating either is ``INSERT ... ON CONFLICT DO NOTHING RETURNING``; when nothing comes
back the row already existed (or a concurrent request just wrote it) and is read instead. Never
read-then-insert: two requests would both see nothing and one would fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from byway.db import insert_for, iso_utc, new_id, utcnow
from byway.runtime import PluginRuntime
from byway_students_internal.models import enrollments, students

Record = dict[str, Any]


def student_record(row: Any) -> Record:
    """A ``Student`` as the schema serves it."""
    return {"id": row.id, "userId": row.user_id, "displayName": row.display_name, "createdAt": iso_utc(row.created_at)}


def enrollment_record(row: Any) -> Record:
    """An ``Enrollment`` as the schema serves it."""
    return {
        "id": row.id,
        "studentId": row.student_id,
        "courseId": row.course_id,
        "enrolledAt": iso_utc(row.enrolled_at),
    }


async def upsert_student(session: AsyncSession, user_id: str, display_name: str | None) -> tuple[Record, bool]:
    """The user's student, created if missing (not committed); ``True`` when this call created it."""
    stmt = (
        insert_for(session)(students)
        .values(id=new_id(), user_id=user_id, display_name=display_name, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["user_id"])
        .returning(*students.c)
    )
    row = (await session.execute(stmt)).first()
    if row is not None:
        return student_record(row), True
    row = (await session.execute(select(students).where(students.c.user_id == user_id))).one()
    return student_record(row), False


async def upsert_enrollment(session: AsyncSession, student_id: str, course_id: str) -> tuple[Record, bool]:
    """The enrollment of a student in a course, created if missing (not committed); ``True`` if created."""
    stmt = (
        insert_for(session)(enrollments)
        .values(id=new_id(), student_id=student_id, course_id=course_id, enrolled_at=utcnow())
        .on_conflict_do_nothing(index_elements=["student_id", "course_id"])
        .returning(*enrollments.c)
    )
    row = (await session.execute(stmt)).first()
    if row is not None:
        return enrollment_record(row), True
    row = (
        await session.execute(
            select(enrollments).where(enrollments.c.student_id == student_id, enrollments.c.course_id == course_id)
        )
    ).one()
    return enrollment_record(row), False


async def get_student(session: AsyncSession, student_id: str) -> Record | None:
    """The student with this id, or None."""
    row = (await session.execute(select(students).where(students.c.id == student_id))).first()
    return student_record(row) if row else None


async def students_by_ids(session: AsyncSession, student_ids: Sequence[str]) -> dict[str, Record]:
    """The students among ``student_ids`` that exist, by id (one query)."""
    if not student_ids:
        return {}
    rows = (await session.execute(select(students).where(students.c.id.in_(set(student_ids))))).all()
    return {row.id: student_record(row) for row in rows}


async def student_of_user(session: AsyncSession, user_id: str) -> Record | None:
    """The student of an authentication user, or None."""
    row = (await session.execute(select(students).where(students.c.user_id == user_id))).first()
    return student_record(row) if row else None


async def enrolled_course_ids(session: AsyncSession, student_id: str, course_ids: Sequence[str]) -> set[str]:
    """Which of ``course_ids`` the student is enrolled in (one query)."""
    if not course_ids:
        return set()
    stmt = select(enrollments.c.course_id).where(
        enrollments.c.student_id == student_id, enrollments.c.course_id.in_(set(course_ids))
    )
    return set((await session.execute(stmt)).scalars())


async def enrolled_course_ids_of_user(session: AsyncSession, user_id: str, course_ids: Sequence[str]) -> set[str]:
    """Which of ``course_ids`` the user's student is enrolled in: ONE statement (a join), none
    when the user has no student yet."""
    if not course_ids:
        return set()
    params = {"user_id": user_id, "course_ids": list(set(course_ids))}
    return set((await session.execute(_ENROLLED_OF_USER, params)).scalars())


#: Built once (the page's hot path): building a statement with 50 literal ids costs more than running it.
_ENROLLED_OF_USER = (
    select(enrollments.c.course_id)
    .join(students, students.c.id == enrollments.c.student_id)
    .where(
        students.c.user_id == bindparam("user_id"),
        enrollments.c.course_id.in_(bindparam("course_ids", expanding=True)),
    )
)


async def enrollments_of(session: AsyncSession, student_id: str) -> list[Record]:
    """A student's enrollments, oldest first."""
    stmt = (
        select(enrollments)
        .where(enrollments.c.student_id == student_id)
        .order_by(enrollments.c.enrolled_at, enrollments.c.id)
    )
    return [enrollment_record(row) for row in (await session.execute(stmt)).all()]


async def count_for_course(session: AsyncSession, course_id: str) -> int:
    """How many enrollments a course has."""
    stmt = select(func.count()).select_from(enrollments).where(enrollments.c.course_id == course_id)
    return int(await session.scalar(stmt) or 0)


async def delete_enrollment(session: AsyncSession, student_id: str, course_id: str) -> bool:
    """Remove an enrollment (not committed); True if there was one."""
    stmt = (
        delete(enrollments)
        .where(enrollments.c.student_id == student_id, enrollments.c.course_id == course_id)
        .returning(enrollments.c.id)
    )
    return (await session.execute(stmt)).first() is not None


async def held_user_ids(plugin: PluginRuntime) -> list[str]:
    """The distinct authentication user ids students belong to (``Relation.held_ids`` for the audit)."""
    return await _distinct(plugin, students.c.user_id)


async def held_course_ids(plugin: PluginRuntime) -> list[str]:
    """The distinct teach-internal course ids enrollments hold (``Relation.held_ids`` for the audit)."""
    return await _distinct(plugin, enrollments.c.course_id)


async def _distinct(plugin: PluginRuntime, column: Column[str]) -> list[str]:
    async with plugin.sessions() as session:
        return list((await session.execute(select(column).where(column.is_not(None)).distinct())).scalars())
