"""Database access of ``students-internal``: idempotent upserts and the queries the API serves.

Uniqueness is the database's job: students are unique per user and enrollments per (student,
course). Creating either is ``INSERT ... ON CONFLICT DO NOTHING RETURNING``; when nothing comes
back the row already existed (or a concurrent request just wrote it) and is read instead. Never
read-then-insert: two requests would both see nothing and one would fail.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

import byway
from byway.metrics import on_commit, plugin_of
from byway_students_internal.models import certificates, enrollments, lesson_progress, students

Record = dict[str, Any]


def student_record(row: Any) -> Record:
    """A ``Student`` as the schema serves it."""
    return {
        "id": row.id,
        "userId": row.user_id,
        "displayName": row.display_name,
        "createdAt": byway.iso_utc(row.created_at),
    }


def enrollment_record(row: Any) -> Record:
    """An ``Enrollment`` as the schema serves it."""
    return {
        "id": row.id,
        "studentId": row.student_id,
        "courseId": row.course_id,
        "enrolledAt": byway.iso_utc(row.enrolled_at),
    }


async def upsert_student(session: AsyncSession, user_id: str, display_name: str | None) -> tuple[Record, bool]:
    """The user's student, created if missing (not committed); ``True`` when this call created it."""
    stmt = (
        byway.insert_for(session)(students)
        .values(id=byway.new_id(), user_id=user_id, display_name=display_name, created_at=byway.utcnow())
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
        byway.insert_for(session)(enrollments)
        .values(id=byway.new_id(), student_id=student_id, course_id=course_id, enrolled_at=byway.utcnow())
        .on_conflict_do_nothing(index_elements=["student_id", "course_id"])
        .returning(*enrollments.c)
    )
    row = (await session.execute(stmt)).first()
    _count_enrollment(session, created=row is not None)
    if row is not None:
        return enrollment_record(row), True
    row = (
        await session.execute(
            select(enrollments).where(enrollments.c.student_id == student_id, enrollments.c.course_id == course_id)
        )
    ).one()
    return enrollment_record(row), False


def _count_enrollment(session: AsyncSession, *, created: bool) -> None:
    """``byway_students_internal_enrollments_total{outcome}``: ``created`` or ``existing``, once committed."""
    plugin = plugin_of(session)
    if plugin is not None:
        counter = plugin.metrics.counter(
            "enrollments_total", "Enrollment requests: created, or already there (idempotent)", ["outcome"]
        )
        on_commit(session, counter.labels("created" if created else "existing").inc)


async def get_student(session: byway.Readable, student_id: str) -> Record | None:
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


async def enrolled_course_ids(session: byway.Readable, student_id: str, course_ids: Sequence[str]) -> set[str]:
    """Which of ``course_ids`` the student is enrolled in (one query)."""
    if not course_ids:
        return set()
    stmt = select(enrollments.c.course_id).where(
        enrollments.c.student_id == student_id, enrollments.c.course_id.in_(set(course_ids))
    )
    return set((await session.execute(stmt)).scalars().all())


async def enrolled_course_ids_of_user(session: byway.Readable, user_id: str, course_ids: Sequence[str]) -> set[str]:
    """Which of ``course_ids`` the user's student is enrolled in: ONE statement (a join), none
    when the user has no student yet."""
    if not course_ids:
        return set()
    params = {"user_id": user_id, "course_ids": list(course_ids)}
    return set(await byway.scalars(session, _ENROLLED_OF_USER, params))


#: Built once (the page's hot path): building a statement with 50 literal ids costs more than
#: running it, and so does rendering 50 parameters at each run (``one_of`` binds them as one);
#: prepared, a reader on SQLite runs it on the driver directly (``byway.Prepared``).
_ENROLLED_OF_USER = byway.Prepared(
    select(enrollments.c.course_id)
    .join(students, students.c.id == enrollments.c.student_id)
    .where(students.c.user_id == bindparam("user_id"), byway.one_of(enrollments.c.course_id, "course_ids"))
)


async def some_enrolled_course_ids_of_user(session: byway.Readable, user_id: str, first: int) -> list[str]:
    """At most ``first`` of the course ids the user's student is enrolled in, in id order: ONE
    statement; empty when the user has no student yet. Fewer than ``first`` means all of them."""
    return list(await byway.scalars(session, _SOME_ENROLLED_OF_USER, {"user_id": user_id, "first": first}))


async def some_enrolled_course_ids(session: byway.Readable, student_id: str, first: int) -> list[str]:
    """At most ``first`` of the course ids the student is enrolled in, in id order (one statement)."""
    return list(await byway.scalars(session, _SOME_ENROLLED, {"student_id": student_id, "first": first}))


def _some_enrolled(student_id: ColumnElement[Any]) -> byway.Prepared:
    """At most ``first`` course ids of the student ``student_id``, in id order: the (student,
    course) index gives them in order, and the scan stops at ``first``."""
    return byway.Prepared(
        select(enrollments.c.course_id)
        .where(enrollments.c.student_id == student_id)
        .order_by(enrollments.c.course_id)
        .limit(bindparam("first"))
    )


_SOME_ENROLLED = _some_enrolled(bindparam("student_id"))
#: The student as a scalar subquery, not a join: a join would sort all of a student's enrollments
#: on PostgreSQL (and plan the sort at each run).
_SOME_ENROLLED_OF_USER = _some_enrolled(
    select(students.c.id).where(students.c.user_id == bindparam("user_id")).scalar_subquery()
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


# --- progress ----------------------------------------------------------------------------------


def progress_record(row: Any) -> Record:
    """A ``LessonProgress`` as the schema serves it."""
    return {
        "id": row.id,
        "lessonId": row.lesson_id,
        "courseId": row.course_id,
        "completed": row.completed,
        "updatedAt": byway.iso_utc(row.updated_at),
    }


async def upsert_progress(
    session: AsyncSession, student_id: str, lesson_id: str, course_id: str, completed: bool
) -> Record:
    """Set a student's progress on a lesson (one row per (student, lesson); not committed)."""
    insert = byway.insert_for(session)(lesson_progress).values(
        id=byway.new_id(),
        student_id=student_id,
        lesson_id=lesson_id,
        course_id=course_id,
        completed=completed,
        updated_at=byway.utcnow(),
    )
    stmt = insert.on_conflict_do_update(
        index_elements=["student_id", "lesson_id"],
        set_={"completed": completed, "course_id": course_id, "updated_at": insert.excluded.updated_at},
    ).returning(*lesson_progress.c)
    return progress_record((await session.execute(stmt)).one())


async def progress_of(session: AsyncSession, student_id: str, course_id: str | None = None) -> list[Record]:
    """A student's progress records (of one course, or all), by course then time."""
    stmt = select(lesson_progress).where(lesson_progress.c.student_id == student_id)
    if course_id is not None:
        stmt = stmt.where(lesson_progress.c.course_id == course_id)
    stmt = stmt.order_by(lesson_progress.c.course_id, lesson_progress.c.updated_at, lesson_progress.c.id)
    return [progress_record(row) for row in (await session.execute(stmt)).all()]


async def completed_lessons(session: AsyncSession, student_ids: Sequence[str]) -> dict[str, set[str]]:
    """The lessons each student has completed (one query), by student id."""
    done: dict[str, set[str]] = {student_id: set() for student_id in student_ids}
    if not student_ids:
        return done
    stmt = select(lesson_progress.c.student_id, lesson_progress.c.lesson_id).where(
        lesson_progress.c.student_id.in_(set(student_ids)), lesson_progress.c.completed.is_(True)
    )
    for row in (await session.execute(stmt)).all():
        done[row.student_id].add(row.lesson_id)
    return done


# --- certificates ------------------------------------------------------------------------------


def certificate_record(row: Any) -> Record:
    """A ``Certificate`` as the schema serves it (``url`` is added by the resolver)."""
    return {
        "id": row.id,
        "code": row.code,
        "studentId": row.student_id,
        "courseId": row.course_id,
        "courseTitle": row.course_title,
        "studentName": row.student_name,
        "issuedAt": byway.iso_utc(row.issued_at),
    }


def new_certificate_code() -> str:
    """An unguessable public code: 128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


async def issue_certificate(
    session: AsyncSession, student_id: str, course_id: str, *, student_name: str, course_title: str
) -> tuple[Record, bool]:
    """The student's certificate of the course, issued now if missing (not committed); True if issued now."""
    stmt = (
        byway.insert_for(session)(certificates)
        .values(
            id=byway.new_id(),
            code=new_certificate_code(),
            student_id=student_id,
            course_id=course_id,
            student_name=student_name[:200],
            course_title=course_title[:200],
            issued_at=byway.utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["student_id", "course_id"])
        .returning(*certificates.c)
    )
    row = (await session.execute(stmt)).first()
    if row is not None:
        return certificate_record(row), True
    existing = await certificates_of(session, [(student_id, course_id)])
    return existing[(student_id, course_id)], False


async def certificates_of(session: AsyncSession, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Record]:
    """The certificates among (student id, course id) pairs (one query), by pair."""
    if not pairs:
        return {}
    students_ = {student for student, _ in pairs}
    courses_ = {course for _, course in pairs}
    stmt = select(certificates).where(certificates.c.student_id.in_(students_), certificates.c.course_id.in_(courses_))
    wanted = set(pairs)
    found: dict[tuple[str, str], Record] = {}
    for row in (await session.execute(stmt)).all():
        if (row.student_id, row.course_id) in wanted:
            found[(row.student_id, row.course_id)] = certificate_record(row)
    return found


async def certificate_by_code(session: AsyncSession, code: str) -> Record | None:
    """The certificate with this public code, or None."""
    row = (await session.execute(select(certificates).where(certificates.c.code == code))).first()
    return certificate_record(row) if row else None
