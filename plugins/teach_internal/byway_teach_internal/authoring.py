"""Authoring mutations of ``teach-internal``: courses, modules and lessons.

* ``createCourse`` needs a verified teacher profile owned by the caller, asked of ``teach`` with
  the caller's token; ``teacherId`` is the token's user id, never an argument.
* Changes are the owner's only; deletes are the owner's or an admin's.
* Positions are dense (1..n) and stable: creating appends, deleting closes the gap, ``reorder*``
  takes exactly the current children (else ``BAD_USER_INPUT`` and nothing changes). Each change
  locks the parent row first (see :mod:`.store.outline`).
* Deletes apply the other plugins' declared on-delete policies first, through the host
  (:func:`byway.before_delete`): ``restrict`` (enrollments, orders, certificates) refuses
  with ``CONFLICT``; ``cascade`` (lesson progress) is applied by its plugin before our rows go.
"""

from __future__ import annotations

from typing import Any

from ariadne import MutationType
from graphql import GraphQLResolveInfo

import byway
from byway_teach_internal import store
from byway_teach_internal.access import require_owner, require_owner_or_admin, require_verified_teacher
from byway_teach_internal.validation import (
    COURSE_FIELDS,
    LESSON_FIELDS,
    changes,
    clean_category,
    clean_content,
    clean_currency,
    clean_description,
    clean_difficulty,
    clean_duration,
    clean_lesson_type,
    clean_price,
    clean_title,
    clean_url,
)

mutation = MutationType()

Record = dict[str, Any]

# --- courses ------------------------------------------------------------------------------------


@mutation.field("createCourse")
async def resolve_create_course(
    _: Any,
    info: GraphQLResolveInfo[byway.RequestContext],
    title: str,
    priceCents: int,
    description: str | None = None,
    currency: str | None = None,
    category: str | None = None,
    difficulty: str | None = None,
    coverUrl: str | None = None,
) -> Record:
    """Create an unpublished course owned by the caller, who must be a verified teacher."""
    ctx = info.context
    user = byway.require_user(ctx.principal)
    await require_verified_teacher(ctx)
    values: dict[str, Any] = {
        "title": clean_title(title),
        "description": clean_description(description),
        "price_cents": clean_price(priceCents),
        "currency": clean_currency(currency),
        "category": clean_category(category),
        "difficulty": clean_difficulty(difficulty),
        "cover_url": clean_url(coverUrl, "coverUrl"),
    }
    async with ctx.session() as session:
        course = await store.insert_course(session, teacher_id=str(user.user_id), **values)
        await session.commit()
    return course


@mutation.field("updateCourse")
async def resolve_update_course(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], id: str, **arguments: Any
) -> Record:
    """Change a course (owner only); omitted arguments are left as they are."""
    ctx = info.context
    byway.require_user(ctx.principal)
    async with ctx.session() as session:
        course = await store.get_course(session, id)
        if course is None:
            raise byway.NotFound(f"No course with id {id}")
        require_owner(ctx.principal, course["teacherId"], "change it")
        values = changes(arguments, COURSE_FIELDS)
        if values:
            course = await store.update_course(session, id, values)
            await session.commit()
    return course


@mutation.field("deleteCourse")
async def resolve_delete_course(_: Any, info: GraphQLResolveInfo[byway.RequestContext], id: str) -> bool:
    """Delete a course (owner or admin) once no restrict relation holds it; cascades first."""
    ctx = info.context
    byway.require_user(ctx.principal)
    async with ctx.session() as session:
        course = await store.get_course(session, id)
        if course is None:
            raise byway.NotFound(f"No course with id {id}")
        require_owner_or_admin(ctx.principal, course["teacherId"], "delete it")
        module_ids = await store.module_ids_of_course(session, id)
        lesson_ids = (await store.lesson_ids_of_courses(session, [id]))[id]
        # Never sit in an open transaction while other plugins are asked.
        await session.rollback()
    await byway.before_delete(ctx.plugin, {"Course": [id], "Module": module_ids, "Lesson": lesson_ids})
    async with ctx.session() as session:
        deleted = await store.delete_course(session, id)
        await session.commit()
    return deleted


# --- modules ------------------------------------------------------------------------------------


@mutation.field("createModule")
async def resolve_create_module(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], courseId: str, title: str
) -> Record:
    """Append a module to the caller's course."""
    ctx = info.context
    byway.require_user(ctx.principal)
    title = clean_title(title)
    async with ctx.session() as session:
        course = await store.lock_course(session, courseId)
        if course is None:
            raise byway.NotFound(f"No course with id {courseId}")
        require_owner(ctx.principal, course["teacherId"], "add modules")
        module = await store.insert_module(session, courseId, title)
        await session.commit()
    return module


@mutation.field("updateModule")
async def resolve_update_module(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], id: str, title: str | None = None
) -> Record:
    """Rename a module of the caller's course."""
    ctx = info.context
    byway.require_user(ctx.principal)
    async with ctx.session() as session:
        module = await store.get_module(session, id)
        if module is None:
            raise byway.NotFound(f"No module with id {id}")
        require_owner(ctx.principal, module.teacher_id, "change its modules")
        if title is None:
            return store.module_record(module)
        record = await store.update_module(session, id, clean_title(title))
        await session.commit()
    return record


@mutation.field("deleteModule")
async def resolve_delete_module(_: Any, info: GraphQLResolveInfo[byway.RequestContext], id: str) -> bool:
    """Delete a module and its lessons (owner or admin); other plugins' cascades first; the gap closes."""
    ctx = info.context
    byway.require_user(ctx.principal)
    async with ctx.session() as session:
        module = await store.get_module(session, id)
        if module is None:
            raise byway.NotFound(f"No module with id {id}")
        require_owner_or_admin(ctx.principal, module.teacher_id, "delete its modules")
        lesson_ids = await store.lesson_ids_of_module(session, id)
        await session.rollback()
    await byway.before_delete(ctx.plugin, {"Module": [id], "Lesson": lesson_ids})
    async with ctx.session() as session:
        if await store.lock_course(session, module.course_id) is None:
            return False
        await store.delete_module(session, module)
        await session.commit()
    return True


@mutation.field("reorderModules")
async def resolve_reorder_modules(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], courseId: str, ids: list[str]
) -> list[Record]:
    """Put the course's modules in the order of ``ids`` (exactly its current modules)."""
    ctx = info.context
    byway.require_user(ctx.principal)
    async with ctx.session() as session:
        course = await store.lock_course(session, courseId)
        if course is None:
            raise byway.NotFound(f"No course with id {courseId}")
        require_owner(ctx.principal, course["teacherId"], "reorder its modules")
        ordered = await store.reorder_modules(session, courseId, ids)
        if ordered is None:
            raise byway.BadUserInput("ids must be exactly the course's current modules, each once", field="ids")
        await session.commit()
    return ordered


# --- lessons ------------------------------------------------------------------------------------


@mutation.field("createLesson")
async def resolve_create_lesson(
    _: Any,
    info: GraphQLResolveInfo[byway.RequestContext],
    moduleId: str,
    title: str,
    content: str | None = None,
    preview: bool | None = None,
    type: str | None = None,
    duration: int | None = None,
    videoUrl: str | None = None,
) -> Record:
    """Append a lesson to a module of the caller's course."""
    ctx = info.context
    byway.require_user(ctx.principal)
    values: dict[str, Any] = {
        "title": clean_title(title),
        "content": clean_content(content),
        "preview": bool(preview),
        "type": clean_lesson_type(type) or "TEXT",
        "duration": clean_duration(duration),
        "video_url": clean_url(videoUrl, "videoUrl"),
    }
    async with ctx.session() as session:
        module = await store.lock_module(session, moduleId)
        if module is None:
            raise byway.NotFound(f"No module with id {moduleId}")
        require_owner(ctx.principal, module.teacher_id, "add lessons")
        lesson = await store.insert_lesson(session, module, **values)
        await session.commit()
    return lesson


@mutation.field("updateLesson")
async def resolve_update_lesson(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], id: str, **arguments: Any
) -> Record:
    """Change a lesson of the caller's course; omitted arguments are left as they are."""
    ctx = info.context
    byway.require_user(ctx.principal)
    async with ctx.session() as session:
        lesson = await store.get_lesson(session, id)
        if lesson is None:
            raise byway.NotFound(f"No lesson with id {id}")
        require_owner(ctx.principal, lesson["_teacherId"], "change its lessons")
        values = changes(arguments, LESSON_FIELDS)
        if values:
            lesson = await store.update_lesson(session, id, values)
            await session.commit()
    return lesson


@mutation.field("deleteLesson")
async def resolve_delete_lesson(_: Any, info: GraphQLResolveInfo[byway.RequestContext], id: str) -> bool:
    """Delete a lesson (owner or admin): its progress records go first (students-internal); the gap closes."""
    ctx = info.context
    byway.require_user(ctx.principal)
    async with ctx.session() as session:
        lesson = await store.get_lesson(session, id)
        if lesson is None:
            raise byway.NotFound(f"No lesson with id {id}")
        require_owner_or_admin(ctx.principal, lesson["_teacherId"], "delete its lessons")
        await session.rollback()
    await byway.before_delete(ctx.plugin, {"Lesson": [id]})
    async with ctx.session() as session:
        if await store.lock_module(session, lesson["moduleId"]) is None:
            return False
        deleted = await store.delete_lesson(session, lesson["moduleId"], id)
        await session.commit()
    return deleted


@mutation.field("reorderLessons")
async def resolve_reorder_lessons(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], moduleId: str, ids: list[str]
) -> list[Record]:
    """Put the module's lessons in the order of ``ids`` (exactly its current lessons)."""
    ctx = info.context
    byway.require_user(ctx.principal)
    async with ctx.session() as session:
        module = await store.lock_module(session, moduleId)
        if module is None:
            raise byway.NotFound(f"No module with id {moduleId}")
        require_owner(ctx.principal, module.teacher_id, "reorder its lessons")
        ordered = await store.reorder_lessons(session, module, ids)
        if ordered is None:
            raise byway.BadUserInput("ids must be exactly the module's current lessons, each once", field="ids")
        await session.commit()
    return ordered
