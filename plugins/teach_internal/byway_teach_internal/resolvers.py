"""The GraphQL API of ``teach-internal``: reading courses, the catalogue and lessons.

Rules:

* A course is visible to everyone once published; before that only to its owner, admins and
  services (others get ``null``, as for an unknown id). The catalogue (``courses``,
  ``courseCount``, ``categories``) lists published courses only, whatever the filter.
* ``Lesson.content`` and ``Lesson.videoUrl`` are null unless the lesson is a preview or the caller
  is enrolled, the owner, an admin or a service.
* ``lessonsByIds`` is for services (students-internal checks lessons through it).

Changes (authoring) are in :mod:`.authoring`; ``BINDABLES`` holds both.
"""

from __future__ import annotations

from typing import Any

from ariadne import ObjectType, QueryType
from graphql import GraphQLResolveInfo

import byway
from byway.fast_execution import resolved_from
from byway_teach_internal import store
from byway_teach_internal.access import sees_everything, visible
from byway_teach_internal.authoring import mutation
from byway_teach_internal.loaders import (
    ENROLLED_ERROR,
    IDS_MAX,
    IS_ENROLLED,
    Enrollments,
    enrollment_loader,
    lesson_count_loader,
    lesson_ids_loader,
    lessons_loader,
    modules_loader,
    teacher_loader,
)
from byway_teach_internal.store.catalog import search_terms

query = QueryType()
course_type = ObjectType("Course")
module_type = ObjectType("Module")
lesson_type = ObjectType("Lesson")

PAGE_MAX = 100

Record = dict[str, Any]


def catalog_query(
    search: str | None, category: str | None, difficulty: str | None, free: bool | None
) -> store.CatalogQuery:
    """The catalogue request: a blank search or category filters nothing; search text is only words."""
    terms = tuple(search_terms(search)) if search is not None and search.strip() else None
    category = " ".join(category.split()) if category is not None else None
    return store.CatalogQuery(terms=terms, category=category or None, difficulty=difficulty, free=free)


@query.field("course")
async def resolve_course(_: Any, info: GraphQLResolveInfo[byway.RequestContext], id: str) -> Record | None:
    """A course, when the caller may see it."""
    ctx = info.context
    async with ctx.session() as session:
        course = await store.get_course(session, id)
    return visible(ctx.principal, course)


@query.field("courses")
async def resolve_courses(
    _: Any,
    info: GraphQLResolveInfo[byway.RequestContext],
    first: int | None = 20,
    after: str | None = None,
    search: str | None = None,
    category: str | None = None,
    difficulty: str | None = None,
    free: bool | None = None,
) -> list[Record]:
    """A page of published courses: oldest first, or by relevance with ``search``."""
    ctx = info.context
    first = 20 if first is None else first
    if not 1 <= first <= PAGE_MAX:
        raise byway.BadUserInput(f"first must be between 1 and {PAGE_MAX}", field="first")
    async with Enrollments(ctx, info) as enrollments:
        async with ctx.reader() as db:  # read-only, the hot path of every catalogue page
            page = await store.catalog_page(db, catalog_query(search, category, difficulty, free), first, after)
        if page is None:
            raise byway.BadUserInput(
                "after must be the id of a course from a previous page of this listing", field="after"
            )
        await enrollments.prime(page)
    return page


@query.field("courseCount")
async def resolve_course_count(
    _: Any,
    info: GraphQLResolveInfo[byway.RequestContext],
    search: str | None = None,
    category: str | None = None,
    difficulty: str | None = None,
    free: bool | None = None,
) -> int:
    """How many published courses match."""
    async with info.context.reader() as db:
        return await store.catalog_count(db, catalog_query(search, category, difficulty, free))


@query.field("categories")
async def resolve_categories(_: Any, info: GraphQLResolveInfo[byway.RequestContext]) -> list[Record]:
    """The categories of the published courses with their counts."""
    async with info.context.session() as session:
        return await store.category_counts(session)


@query.field("coursesByIds")
async def resolve_courses_by_ids(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], ids: list[str]
) -> list[Record | None]:
    """One entry per id, in order; null for unknown courses and courses the caller may not see."""
    ctx = info.context
    if len(ids) > IDS_MAX:
        raise byway.BadUserInput(f"at most {IDS_MAX} ids at a time", field="ids")
    if not ids:
        return []
    async with Enrollments(ctx, info, ids) as enrollments:
        async with ctx.session() as session:
            found = await store.get_courses(session, ids)
        result = [visible(ctx.principal, found.get(course_id)) for course_id in ids]
        await enrollments.prime([course for course in result if course is not None])
    return result


@query.field("lessonsByIds")
async def resolve_lessons_by_ids(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], ids: list[str]
) -> list[Record | None]:
    """Services only: one entry per id, in order; null for unknown lessons."""
    ctx = info.context
    byway.require_service(ctx.principal)
    if len(ids) > IDS_MAX:
        raise byway.BadUserInput(f"at most {IDS_MAX} ids at a time", field="ids")
    async with ctx.session() as session:
        found = await store.lessons_by_ids(session, ids)
    return [found.get(lesson_id) for lesson_id in ids]


@query.field("teachingCourses")
async def resolve_teaching_courses(_: Any, info: GraphQLResolveInfo[byway.RequestContext]) -> list[Record]:
    """The caller's own courses, published or not."""
    ctx = info.context
    user = byway.require_user(ctx.principal)
    async with Enrollments(ctx, info) as enrollments:
        async with ctx.session() as session:
            courses = await store.courses_of_teacher(session, str(user.user_id))
        await enrollments.prime(courses)
    return courses


@course_type.field("isEnrolled")
@resolved_from(IS_ENROLLED)
def resolve_is_enrolled(course: Record, info: GraphQLResolveInfo[byway.RequestContext]) -> Any:
    """Asked of students-internal once per request for all courses; false without a user.

    A list resolver primes it for all its courses (``Enrollments.prime``): the executor then
    reads ``course[IS_ENROLLED]`` without calling this; a failed call is raised here.
    """
    ctx = info.context
    if not ctx.principal.is_user:
        return False
    if IS_ENROLLED in course:
        return course[IS_ENROLLED]
    if ENROLLED_ERROR in course:
        raise course[ENROLLED_ERROR]  # the primed call failed: the error of every isEnrolled field
    return _is_enrolled(ctx, course["id"])


async def _is_enrolled(ctx: byway.RequestContext, course_id: str) -> bool:
    return bool(await enrollment_loader(ctx).load(course_id))


@course_type.field("modules")
async def resolve_modules(course: Record, info: GraphQLResolveInfo[byway.RequestContext]) -> list[Record]:
    """The course's modules (batched over the courses of the response)."""
    result: list[Record] = await modules_loader(info.context).load(course["id"])
    return result


@course_type.field("lessonCount")
async def resolve_lesson_count(course: Record, info: GraphQLResolveInfo[byway.RequestContext]) -> int:
    """How many lessons (batched over the courses of the response)."""
    return int(await lesson_count_loader(info.context).load(course["id"]))


@course_type.field("lessonIds")
async def resolve_lesson_ids(course: Record, info: GraphQLResolveInfo[byway.RequestContext]) -> list[str]:
    """The lesson ids in outline order (batched over the courses of the response)."""
    result: list[str] = await lesson_ids_loader(info.context).load(course["id"])
    return result


@course_type.field("teacher")
async def resolve_teacher(course: Record, info: GraphQLResolveInfo[byway.RequestContext]) -> Record | None:
    """The teacher, from authentication and teach (one batched call to each per request)."""
    result: Record | None = await teacher_loader(info.context).load(course["teacherId"])
    return result


@module_type.field("lessons")
async def resolve_lessons(module: Record, info: GraphQLResolveInfo[byway.RequestContext]) -> list[Record]:
    """The module's lessons (batched over the modules of the response)."""
    result: list[Record] = await lessons_loader(info.context).load(module["id"])
    return result


async def gated(lesson: Record, ctx: byway.RequestContext, key: str) -> str | None:
    """A gated field's value if the lesson is a preview or the caller is enrolled, the owner, an admin or a service."""
    value: str | None = lesson[key]
    if value is None or lesson["preview"] or sees_everything(ctx.principal, lesson["_teacherId"]):
        return value
    if not ctx.principal.is_user:
        return None
    return value if await enrollment_loader(ctx).load(lesson["courseId"]) else None


@lesson_type.field("content")
async def resolve_content(lesson: Record, info: GraphQLResolveInfo[byway.RequestContext]) -> str | None:
    """The lesson's content, gated."""
    return await gated(lesson, info.context, "_content")


@lesson_type.field("videoUrl")
async def resolve_video_url(lesson: Record, info: GraphQLResolveInfo[byway.RequestContext]) -> str | None:
    """The lesson's video, gated exactly like its content."""
    return await gated(lesson, info.context, "_videoUrl")


BINDABLES = [query, mutation, course_type, module_type, lesson_type]
