"""Modules and lessons, kept at dense positions 1..n under their parent.

Every change of positions (append, delete, reorder) first *locks the parent row* with a no-op
``UPDATE ... RETURNING`` as the transaction's first statement: Postgres holds the row lock until
commit and SQLite takes its single write lock, so two changes of one module (or course) run one
after the other and each sees the other's result. Positions are unique per parent in the database
(``uq_*_position``); renumbering writes in two phases (negative, then positive) so no intermediate
row ever collides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, case, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

import byway
from byway_teach_internal.models import courses, lessons, modules

Record = dict[str, Any]


@dataclass(frozen=True)
class ModuleRow:
    """A module with its course's id and owner (what authoring checks need)."""

    id: str
    course_id: str
    teacher_id: str
    title: str
    position: int


def module_record(row: Any) -> Record:
    """A ``Module`` as the schema serves it."""
    return {"id": row.id, "courseId": row.course_id, "title": row.title, "position": row.position}


def lesson_record(row: Any, course_id: str, teacher_id: str) -> Record:
    """A ``Lesson``; its content, video and course ownership stay private for the gated fields."""
    return {
        "id": row.id,
        "moduleId": row.module_id,
        "courseId": course_id,
        "title": row.title,
        "preview": row.preview,
        "position": row.position,
        "type": row.type,
        "duration": row.duration,
        "_content": row.content,
        "_videoUrl": row.video_url,
        "_teacherId": teacher_id,
    }


# --- locks -------------------------------------------------------------------------------------


async def lock_course(session: AsyncSession, course_id: str) -> Record | None:
    """Lock a course row for this transaction (call first); its ``{id, teacherId}``, or None."""
    stmt = (
        update(courses)
        .where(courses.c.id == course_id)
        .values(published=courses.c.published)
        .returning(courses.c.id, courses.c.teacher_id)
    )
    row = (await session.execute(stmt)).first()
    return {"id": row.id, "teacherId": row.teacher_id} if row else None


async def lock_module(session: AsyncSession, module_id: str) -> ModuleRow | None:
    """Lock a module row for this transaction (call first); the module with its owner, or None."""
    stmt = (
        update(modules)
        .where(modules.c.id == module_id)
        .values(title=modules.c.title)
        .returning(modules.c.id, modules.c.course_id, modules.c.title, modules.c.position)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    teacher_id = await session.scalar(select(courses.c.teacher_id).where(courses.c.id == row.course_id))
    return ModuleRow(row.id, row.course_id, str(teacher_id), row.title, row.position)


async def get_module(session: AsyncSession, module_id: str) -> ModuleRow | None:
    """A module with its course and owner, without locking."""
    stmt = (
        select(modules.c.id, modules.c.course_id, modules.c.title, modules.c.position, courses.c.teacher_id)
        .join(courses, courses.c.id == modules.c.course_id)
        .where(modules.c.id == module_id)
    )
    row = (await session.execute(stmt)).first()
    return ModuleRow(row.id, row.course_id, row.teacher_id, row.title, row.position) if row else None


# --- positions ---------------------------------------------------------------------------------


async def _child_ids(session: AsyncSession, table: Table, parent: str, parent_id: str) -> list[str]:
    stmt = select(table.c.id).where(table.c[parent] == parent_id).order_by(table.c.position, table.c.id)
    return list((await session.execute(stmt)).scalars())


async def _renumber(session: AsyncSession, table: Table, parent: str, parent_id: str, ordered: Sequence[str]) -> None:
    """Give ``ordered`` (every child of the parent) positions 1..n, in two collision-free phases."""
    if not ordered:
        return
    negative = case({child: -(index + 1) for index, child in enumerate(ordered)}, value=table.c.id)
    await session.execute(update(table).where(table.c.id.in_(ordered)).values(position=negative))
    await session.execute(update(table).where(table.c[parent] == parent_id).values(position=-table.c.position))


def _next_position(table: Table, parent: str, parent_id: str) -> Any:
    return (
        select(func.coalesce(func.max(table.c.position), 0) + 1).where(table.c[parent] == parent_id).scalar_subquery()
    )


# --- modules -----------------------------------------------------------------------------------


async def insert_module(session: AsyncSession, course_id: str, title: str) -> Record:
    """Append a module to a (locked) course; not committed."""
    stmt = (
        insert(modules)
        .values(
            id=byway.new_id(),
            course_id=course_id,
            title=title,
            position=_next_position(modules, "course_id", course_id),
        )
        .returning(*modules.c)
    )
    return module_record((await session.execute(stmt)).one())


async def update_module(session: AsyncSession, module_id: str, title: str) -> Record:
    """Rename a module (not committed)."""
    stmt = update(modules).where(modules.c.id == module_id).values(title=title).returning(*modules.c)
    return module_record((await session.execute(stmt)).one())


async def delete_module(session: AsyncSession, module: ModuleRow) -> None:
    """Delete a module and its lessons, closing the gap among its course's modules (course locked)."""
    await session.execute(delete(lessons).where(lessons.c.module_id == module.id))
    await session.execute(delete(modules).where(modules.c.id == module.id))
    await _renumber(
        session,
        modules,
        "course_id",
        module.course_id,
        await _child_ids(session, modules, "course_id", module.course_id),
    )


async def reorder_modules(session: AsyncSession, course_id: str, ordered: Sequence[str]) -> list[Record] | None:
    """Put a (locked) course's modules in ``ordered``; None (and no change) unless it is exactly them."""
    current = await _child_ids(session, modules, "course_id", course_id)
    if len(ordered) != len(current) or set(ordered) != set(current):
        return None
    await _renumber(session, modules, "course_id", course_id, ordered)
    return (await modules_of_courses(session, [course_id]))[course_id]


async def module_ids_of_course(session: AsyncSession, course_id: str) -> list[str]:
    """The ids of a course's modules."""
    return await _child_ids(session, modules, "course_id", course_id)


async def modules_of_courses(session: AsyncSession, course_ids: Sequence[str]) -> dict[str, list[Record]]:
    """The modules of several courses in one query, by course id, each list by position."""
    stmt = (
        select(*modules.c)
        .where(modules.c.course_id.in_(set(course_ids)))
        .order_by(modules.c.course_id, modules.c.position, modules.c.id)
    )
    grouped: dict[str, list[Record]] = {cid: [] for cid in course_ids}
    for row in (await session.execute(stmt)).all():
        grouped[row.course_id].append(module_record(row))
    return grouped


# --- lessons -----------------------------------------------------------------------------------


def _lessons_with_owner() -> Any:
    return (
        select(*lessons.c, modules.c.course_id, courses.c.teacher_id)
        .join(modules, modules.c.id == lessons.c.module_id)
        .join(courses, courses.c.id == modules.c.course_id)
    )


async def insert_lesson(session: AsyncSession, module: ModuleRow, **values: Any) -> Record:
    """Append a lesson to a (locked) module; ``values`` are columns (title, content, ...). Not committed."""
    stmt = (
        insert(lessons)
        .values(
            id=byway.new_id(), module_id=module.id, position=_next_position(lessons, "module_id", module.id), **values
        )
        .returning(*lessons.c)
    )
    return lesson_record((await session.execute(stmt)).one(), module.course_id, module.teacher_id)


async def get_lesson(session: AsyncSession, lesson_id: str) -> Record | None:
    """A lesson with its course and owner, or None."""
    row = (await session.execute(_lessons_with_owner().where(lessons.c.id == lesson_id))).first()
    return lesson_record(row, row.course_id, row.teacher_id) if row else None


async def update_lesson(session: AsyncSession, lesson_id: str, values: dict[str, Any]) -> Record:
    """Apply column ``values`` to a lesson (not committed) and return it."""
    await session.execute(update(lessons).where(lessons.c.id == lesson_id).values(**values))
    lesson = await get_lesson(session, lesson_id)
    assert lesson is not None
    return lesson


async def delete_lesson(session: AsyncSession, module_id: str, lesson_id: str) -> bool:
    """Delete a lesson of a (locked) module and close the gap; True if it was there. Not committed."""
    gone = (
        await session.execute(
            delete(lessons).where(lessons.c.id == lesson_id, lessons.c.module_id == module_id).returning(lessons.c.id)
        )
    ).first()
    await _renumber(
        session, lessons, "module_id", module_id, await _child_ids(session, lessons, "module_id", module_id)
    )
    return gone is not None


async def reorder_lessons(session: AsyncSession, module: ModuleRow, ordered: Sequence[str]) -> list[Record] | None:
    """Put a (locked) module's lessons in ``ordered``; None (and no change) unless it is exactly them."""
    current = await _child_ids(session, lessons, "module_id", module.id)
    if len(ordered) != len(current) or set(ordered) != set(current):
        return None
    await _renumber(session, lessons, "module_id", module.id, ordered)
    return (await lessons_of_modules(session, [module.id]))[module.id]


async def lesson_ids_of_module(session: AsyncSession, module_id: str) -> list[str]:
    """The ids of a module's lessons, by position."""
    return await _child_ids(session, lessons, "module_id", module_id)


async def lessons_of_modules(session: AsyncSession, module_ids: Sequence[str]) -> dict[str, list[Record]]:
    """The lessons of several modules in one query, by module id, each list by position."""
    stmt = (
        _lessons_with_owner()
        .where(lessons.c.module_id.in_(set(module_ids)))
        .order_by(lessons.c.module_id, lessons.c.position, lessons.c.id)
    )
    grouped: dict[str, list[Record]] = {mid: [] for mid in module_ids}
    for row in (await session.execute(stmt)).all():
        grouped[row.module_id].append(lesson_record(row, row.course_id, row.teacher_id))
    return grouped


async def lessons_by_ids(session: AsyncSession, lesson_ids: Sequence[str]) -> dict[str, Record]:
    """The lessons among ``lesson_ids`` that exist, by id (one query)."""
    if not lesson_ids:
        return {}
    rows = (await session.execute(_lessons_with_owner().where(lessons.c.id.in_(set(lesson_ids))))).all()
    return {row.id: lesson_record(row, row.course_id, row.teacher_id) for row in rows}


async def lesson_ids_of_courses(session: AsyncSession, course_ids: Sequence[str]) -> dict[str, list[str]]:
    """The lesson ids of several courses in one query, in outline order (module, then lesson position)."""
    stmt = (
        select(lessons.c.id, modules.c.course_id)
        .join(modules, modules.c.id == lessons.c.module_id)
        .where(modules.c.course_id.in_(set(course_ids)))
        .order_by(modules.c.course_id, modules.c.position, lessons.c.position)
    )
    grouped: dict[str, list[str]] = {cid: [] for cid in course_ids}
    for row in (await session.execute(stmt)).all():
        grouped[row.course_id].append(row.id)
    return grouped


async def lesson_counts(session: AsyncSession, course_ids: Sequence[str]) -> dict[str, int]:
    """How many lessons each course has (one query)."""
    stmt = (
        select(modules.c.course_id, func.count(lessons.c.id))
        .join(lessons, lessons.c.module_id == modules.c.id)
        .where(modules.c.course_id.in_(set(course_ids)))
        .group_by(modules.c.course_id)
    )
    counts = {cid: 0 for cid in course_ids}
    counts.update({row[0]: int(row[1]) for row in (await session.execute(stmt)).all()})
    return counts
