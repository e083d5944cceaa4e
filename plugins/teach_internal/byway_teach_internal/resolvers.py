"""The GraphQL API of ``teach-internal``: who may see and change courses, modules and lessons.

Rules:

* A course is visible to everyone once published; before that only to its owner, admins and
  services (others get ``null``, as for an unknown id).
* ``createCourse`` needs a verified teacher profile owned by the caller, asked of ``teach`` with the
  caller's token; ``teacherId`` is the token's user id, never an argument.
* Changes are the owner's only; ``deleteCourse`` is the owner's or an admin's, and is refused with
  ``CONFLICT`` while ``students-internal`` holds enrollments (or ``ecommerce`` orders) for it.
* ``Lesson.content`` is null unless the lesson is a preview or the caller is enrolled, the owner,
  an admin or a service.
"""

from __future__ import annotations

import re
from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from byway.auth import Principal, require_user
from byway.client import CrossPluginError
from byway.context import RequestContext
from byway.errors import BadUserInput, Conflict, Forbidden, NotFound
from byway.fast_execution import resolved_from
from byway_teach_internal import store
from byway_teach_internal.loaders import (
    ENROLLED_ERROR,
    IS_ENROLLED,
    enrollment_loader,
    lessons_loader,
    modules_loader,
    prime_enrollments,
)
from byway_teach_internal.models import CONTENT_MAX, DESCRIPTION_MAX, TITLE_MAX
from byway_teach_internal.operations import COURSE_ENROLLMENT_COUNT, COURSE_ORDER_COUNT, MY_TEACHER_PROFILE

query = QueryType()
mutation = MutationType()
course_type = ObjectType("Course")
module_type = ObjectType("Module")
lesson_type = ObjectType("Lesson")
bindables = [query, mutation, course_type, module_type, lesson_type]

PAGE_MAX = 100
IDS_MAX = 500
DEFAULT_CURRENCY = "USD"
_CURRENCY = re.compile(r"[A-Z]{3}")
#: Column of each updatable argument of ``updateCourse``.
_UPDATABLE = {
    "title": "title",
    "description": "description",
    "priceCents": "price_cents",
    "currency": "currency",
    "published": "published",
}

Record = dict[str, Any]


# --- who may see what ---------------------------------------------------------------------------


def is_owner(principal: Principal, teacher_id: str) -> bool:
    """True when the caller is the user who owns the course."""
    return principal.is_user and principal.user_id == teacher_id


def sees_everything(principal: Principal, teacher_id: str) -> bool:
    """Owner, admin or service: sees unpublished courses and every lesson's content."""
    return principal.is_service or principal.is_admin or is_owner(principal, teacher_id)


def visible(principal: Principal, course: Record | None) -> Record | None:
    """The course if the caller may see it, else None."""
    if course is None:
        return None
    return course if course["published"] or sees_everything(principal, course["teacherId"]) else None


def require_owner(principal: Principal, teacher_id: str, what: str) -> None:
    """Refuse everyone but the course's owner."""
    if not is_owner(principal, teacher_id):
        raise Forbidden(f"Only the course's teacher may {what}")


# --- input validation ---------------------------------------------------------------------------


def clean_title(value: str, field: str = "title") -> str:
    """A title without surrounding blanks, 1 to 200 characters."""
    title = value.strip()
    if not title:
        raise BadUserInput(f"{field} must not be empty", field=field)
    if len(title) > TITLE_MAX:
        raise BadUserInput(f"{field} must be at most {TITLE_MAX} characters", field=field)
    return title


def clean_description(value: str | None) -> str | None:
    """An optional description of at most 10,000 characters."""
    if value is not None and len(value) > DESCRIPTION_MAX:
        raise BadUserInput(f"description must be at most {DESCRIPTION_MAX} characters", field="description")
    return value


def clean_price(value: int) -> int:
    """A price in minor units: a non-negative integer."""
    if value < 0:
        raise BadUserInput("priceCents must not be negative", field="priceCents")
    return value


def clean_currency(value: str | None) -> str:
    """An ISO 4217-style code of three letters, upper-cased (``USD`` when omitted)."""
    if value is None:
        return DEFAULT_CURRENCY
    code = value.strip().upper()
    if not _CURRENCY.fullmatch(code):
        raise BadUserInput("currency must be a three-letter ISO code such as USD", field="currency")
    return code


# --- cross-plugin checks ------------------------------------------------------------------------


async def require_verified_teacher(ctx: RequestContext) -> None:
    """Ask ``teach`` (with the caller's token) for the caller's profile: it must exist and be verified."""
    try:
        data = await ctx.client.call("teach", MY_TEACHER_PROFILE, as_=ctx.principal)
    except CrossPluginError as exc:
        raise exc.for_caller("Could not check your teacher profile") from exc
    profile = data.get("myTeacherProfile")
    if not profile or profile.get("userId") != ctx.principal.user_id:
        raise Forbidden("You need a teacher profile to create courses")
    if not profile.get("verified"):
        raise Forbidden("Your teacher profile is not verified yet")


async def references_to(ctx: RequestContext, course_id: str) -> dict[str, int]:
    """What holds the course's id elsewhere: enrollments (and orders when ecommerce is known)."""
    references: dict[str, int] = {}
    try:
        data = await ctx.client.call(
            "students-internal", COURSE_ENROLLMENT_COUNT, {"courseId": course_id}, as_="service"
        )
        references["enrollments"] = int(data["courseEnrollmentCount"])
        if ctx.plugin.host.knows("ecommerce"):
            data = await ctx.client.call("ecommerce", COURSE_ORDER_COUNT, {"courseId": course_id}, as_="service")
            references["orders"] = int(data["courseOrderCount"])
    except CrossPluginError as exc:
        raise exc.for_caller("Could not check what refers to the course") from exc
    return references


# --- queries ------------------------------------------------------------------------------------


@query.field("course")
async def resolve_course(_: Any, info: GraphQLResolveInfo[RequestContext], id: str) -> Record | None:
    """A course, when the caller may see it."""
    ctx = info.context
    async with ctx.session() as session:
        course = await store.get_course(session, id)
    return visible(ctx.principal, course)


@query.field("courses")
async def resolve_courses(
    _: Any, info: GraphQLResolveInfo[RequestContext], first: int | None = 20, after: str | None = None
) -> list[Record]:
    """A page of published courses in (createdAt, id) order, after the course ``after``."""
    ctx = info.context
    first = 20 if first is None else first
    if not 1 <= first <= PAGE_MAX:
        raise BadUserInput(f"first must be between 1 and {PAGE_MAX}", field="first")
    async with ctx.session() as session:
        page = await store.published_page(session, first, after)
    if page is None:
        raise BadUserInput("after must be the id of a course from a previous page", field="after")
    await prime_enrollments(ctx, info, page)
    return page


@query.field("coursesByIds")
async def resolve_courses_by_ids(
    _: Any, info: GraphQLResolveInfo[RequestContext], ids: list[str]
) -> list[Record | None]:
    """One entry per id, in order; null for unknown courses and courses the caller may not see."""
    ctx = info.context
    if len(ids) > IDS_MAX:
        raise BadUserInput(f"at most {IDS_MAX} ids at a time", field="ids")
    if not ids:
        return []
    async with ctx.session() as session:
        found = await store.get_courses(session, ids)
    result = [visible(ctx.principal, found.get(course_id)) for course_id in ids]
    await prime_enrollments(ctx, info, [course for course in result if course is not None])
    return result


@query.field("teachingCourses")
async def resolve_teaching_courses(_: Any, info: GraphQLResolveInfo[RequestContext]) -> list[Record]:
    """The caller's own courses, published or not."""
    ctx = info.context
    user = require_user(ctx.principal)
    async with ctx.session() as session:
        courses = await store.courses_of_teacher(session, str(user.user_id))
    await prime_enrollments(ctx, info, courses)
    return courses


@course_type.field("isEnrolled")
@resolved_from(IS_ENROLLED)
def resolve_is_enrolled(course: Record, info: GraphQLResolveInfo[RequestContext]) -> Any:
    """Asked of students-internal once per request for all courses; false without a user.

    A list resolver primes it for all its courses (``prime_enrollments``): the executor then
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


async def _is_enrolled(ctx: RequestContext, course_id: str) -> bool:
    return bool(await enrollment_loader(ctx).load(course_id))


@course_type.field("modules")
async def resolve_modules(course: Record, info: GraphQLResolveInfo[RequestContext]) -> list[Record]:
    """The course's modules (batched over the courses of the response)."""
    result: list[Record] = await modules_loader(info.context).load(course["id"])
    return result


@module_type.field("lessons")
async def resolve_lessons(module: Record, info: GraphQLResolveInfo[RequestContext]) -> list[Record]:
    """The module's lessons (batched over the modules of the response)."""
    result: list[Record] = await lessons_loader(info.context).load(module["id"])
    return result


@lesson_type.field("content")
async def resolve_content(lesson: Record, info: GraphQLResolveInfo[RequestContext]) -> str | None:
    """The content if the lesson is a preview or the caller is enrolled, the owner, an admin or a service."""
    ctx = info.context
    content: str | None = lesson["_content"]
    if content is None or lesson["preview"] or sees_everything(ctx.principal, lesson["_teacherId"]):
        return content
    if not ctx.principal.is_user:
        return None
    return content if await enrollment_loader(ctx).load(lesson["_courseId"]) else None


# --- mutations ----------------------------------------------------------------------------------


@mutation.field("createCourse")
async def resolve_create_course(
    _: Any,
    info: GraphQLResolveInfo[RequestContext],
    title: str,
    priceCents: int,
    description: str | None = None,
    currency: str | None = None,
) -> Record:
    """Create an unpublished course owned by the caller, who must be a verified teacher."""
    ctx = info.context
    user = require_user(ctx.principal)
    await require_verified_teacher(ctx)
    title = clean_title(title)
    description = clean_description(description)
    price_cents = clean_price(priceCents)
    code = clean_currency(currency)
    async with ctx.session() as session:
        course = await store.insert_course(
            session,
            teacher_id=str(user.user_id),
            title=title,
            description=description,
            price_cents=price_cents,
            currency=code,
        )
        await session.commit()
    return course


@mutation.field("updateCourse")
async def resolve_update_course(_: Any, info: GraphQLResolveInfo[RequestContext], id: str, **changes: Any) -> Record:
    """Change the given fields of a course (owner only); null leaves a field as it is, except description."""
    ctx = info.context
    require_user(ctx.principal)
    async with ctx.session() as session:
        course = await store.get_course(session, id, lock=True)
        if course is None:
            raise NotFound(f"No course with id {id}")
        require_owner(ctx.principal, course["teacherId"], "change it")
        values: dict[str, Any] = {}
        for argument, value in changes.items():
            if value is None and argument != "description":
                continue
            if argument == "title":
                value = clean_title(value)
            elif argument == "description":
                value = clean_description(value)
            elif argument == "priceCents":
                value = clean_price(value)
            elif argument == "currency":
                value = clean_currency(value)
            values[_UPDATABLE[argument]] = value
        if not values:
            return course
        course = await store.update_course(session, id, values)
        await session.commit()
    return course


@mutation.field("deleteCourse")
async def resolve_delete_course(_: Any, info: GraphQLResolveInfo[RequestContext], id: str) -> bool:
    """Delete a course (owner or admin) unless enrollments or orders still refer to it."""
    ctx = info.context
    principal = require_user(ctx.principal)
    async with ctx.session() as session:
        course = await store.get_course(session, id)
        # Do not sit in an open transaction while other plugins are asked.
        await session.rollback()
    if course is None:
        raise NotFound(f"No course with id {id}")
    if not (principal.is_admin or is_owner(principal, course["teacherId"])):
        raise Forbidden("Only the course's teacher or an admin may delete it")
    references = await references_to(ctx, id)
    if any(references.values()):
        described = " and ".join(
            f"{count} {kind if count != 1 else kind.removesuffix('s')}" for kind, count in references.items() if count
        )
        raise Conflict(
            f"The course cannot be deleted while {described} refer to it; unpublish it instead",
            references=references,
        )
    async with ctx.session() as session:
        deleted = await store.delete_course(session, id)
        await session.commit()
    if not deleted:
        raise NotFound(f"No course with id {id}")
    return True


@mutation.field("createModule")
async def resolve_create_module(_: Any, info: GraphQLResolveInfo[RequestContext], courseId: str, title: str) -> Record:
    """Append a module to the caller's course."""
    ctx = info.context
    require_user(ctx.principal)
    async with ctx.session() as session:
        course = await store.get_course(session, courseId, lock=True)
        if course is None:
            raise NotFound(f"No course with id {courseId}")
        require_owner(ctx.principal, course["teacherId"], "add modules")
        module = await store.insert_module(session, courseId, clean_title(title))
        await session.commit()
    return module


@mutation.field("createLesson")
async def resolve_create_lesson(
    _: Any,
    info: GraphQLResolveInfo[RequestContext],
    moduleId: str,
    title: str,
    content: str | None = None,
    preview: bool | None = None,
) -> Record:
    """Append a lesson to a module of the caller's course."""
    ctx = info.context
    require_user(ctx.principal)
    async with ctx.session() as session:
        module = await store.get_module_with_owner(session, moduleId, lock=True)
        if module is None:
            raise NotFound(f"No module with id {moduleId}")
        require_owner(ctx.principal, module.teacher_id, "add lessons")
        if content is not None and len(content) > CONTENT_MAX:
            raise BadUserInput(f"content must be at most {CONTENT_MAX} characters", field="content")
        lesson = await store.insert_lesson(
            session, module, title=clean_title(title), content=content, preview=bool(preview)
        )
        await session.commit()
    return lesson
