"""The GraphQL API of ``students-internal``: enrolling, and who may know who is enrolled.

* ``enrollMe`` is for users: it creates the caller's student when missing and accepts only
  published free courses (asked of ``teach-internal`` with the caller's token); paid enrollments
  come from ``ecommerce`` through ``enrollStudent``.
* ``enrollStudent``, ``revokeEnrollment``, ``courseEnrollmentCount`` and ``studentsByIds`` are for
  services and admins.
* Questions about a student (``isEnrolled``, ``enrollmentStatus``, ``myCourses``, ``student``) are
  answered to services, admins and that student only.

Progress, completion and certificates are in :mod:`.learning`; ``BINDABLES`` holds both.
"""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, QueryType
from graphql import GraphQLResolveInfo

import byway
from byway_students_internal import learning, store
from byway_students_internal.access import authorize_registration, fetch_course, own_user_id, student_for

query = QueryType()
mutation = MutationType()

#: Most course ids enrollmentStatus answers for in one call.
STATUS_IDS_MAX = 500
#: Most course ids enrolledCourseIds answers with in one call.
ENROLLED_IDS_MAX = 500
#: Most ids studentsByIds answers for in one call.
STUDENT_IDS_MAX = 500

Record = dict[str, Any]


# --- queries ------------------------------------------------------------------------------------


@query.field("isEnrolled")
async def resolve_is_enrolled(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], studentId: str, courseId: str
) -> bool:
    """Whether the student is enrolled in the course (services, admins, that student)."""
    ctx = info.context
    async with ctx.reader() as db:
        await student_for(db, ctx.principal, studentId)
        return bool(await store.enrolled_course_ids(db, studentId, [courseId]))


@query.field("isEnrolledMe")
async def resolve_is_enrolled_me(_: Any, info: GraphQLResolveInfo[byway.RequestContext], courseId: str) -> bool:
    """Whether the calling user is enrolled in the course."""
    ctx = info.context
    user = byway.require_user(ctx.principal)
    async with ctx.reader() as db:
        return bool(await store.enrolled_course_ids_of_user(db, str(user.user_id), [courseId]))


@query.field("enrollmentStatus")
async def resolve_enrollment_status(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], courseIds: list[str], studentId: str | None = None
) -> list[Record]:
    """``isEnrolled`` for many courses in one query; one entry per id, in order (read-only: a
    reader, the hot path of every catalogue page)."""
    ctx = info.context
    async with ctx.reader() as db:
        if studentId is None:
            # The caller's own student: one join (student and enrollments), not two lookups.
            user_id = own_user_id(ctx.principal)
            if len(courseIds) > STATUS_IDS_MAX:
                raise byway.BadUserInput(f"at most {STATUS_IDS_MAX} course ids at a time", field="courseIds")
            enrolled = await store.enrolled_course_ids_of_user(db, user_id, courseIds)
        else:
            student = await student_for(db, ctx.principal, studentId)
            if len(courseIds) > STATUS_IDS_MAX:
                raise byway.BadUserInput(f"at most {STATUS_IDS_MAX} course ids at a time", field="courseIds")
            enrolled = await store.enrolled_course_ids(db, student["id"], courseIds) if student else set()
    return [{"courseId": course_id, "enrolled": course_id in enrolled} for course_id in courseIds]


@query.field("enrolledCourseIds")
async def resolve_enrolled_course_ids(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], first: int, studentId: str | None = None
) -> list[str]:
    """Up to ``first`` enrolled course ids (read-only: a reader). What a catalogue page fetches
    alongside its own statement, to answer ``isEnrolled`` without waiting for its ids."""
    ctx = info.context
    async with ctx.reader() as db:
        if studentId is None:
            user_id = own_user_id(ctx.principal)
            _check_first(first)
            return await store.some_enrolled_course_ids_of_user(db, user_id, first)
        student = await student_for(db, ctx.principal, studentId)
        _check_first(first)
        return await store.some_enrolled_course_ids(db, student["id"], first) if student else []


def _check_first(first: int) -> None:
    if not 1 <= first <= ENROLLED_IDS_MAX:
        raise byway.BadUserInput(f"first must be between 1 and {ENROLLED_IDS_MAX}", field="first")


@query.field("myCourses")
async def resolve_my_courses(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], studentId: str | None = None
) -> list[Record]:
    """A student's enrollments: the caller's own, or any student's for services and admins."""
    ctx = info.context
    async with ctx.session() as session:
        if studentId is None:
            student = await store.student_of_user(session, own_user_id(ctx.principal))
        else:
            student = await student_for(session, ctx.principal, studentId)
        return await store.enrollments_of(session, student["id"]) if student else []


@query.field("myStudent")
async def resolve_my_student(_: Any, info: GraphQLResolveInfo[byway.RequestContext]) -> Record | None:
    """The calling user's student, or null."""
    ctx = info.context
    if not ctx.principal.is_user:
        return None
    async with ctx.session() as session:
        return await store.student_of_user(session, str(ctx.principal.user_id))


@query.field("student")
async def resolve_student(_: Any, info: GraphQLResolveInfo[byway.RequestContext], id: str) -> Record | None:
    """A student (services, admins, that student); null when unknown."""
    ctx = info.context
    async with ctx.session() as session:
        return await student_for(session, ctx.principal, id, missing_ok=True)


@query.field("studentsByIds")
async def resolve_students_by_ids(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], ids: list[str]
) -> list[Record | None]:
    """Students by id, one entry per id, in order, null for unknown ids (services and admins)."""
    ctx = info.context
    byway.require_service_or_admin(ctx.principal)
    if len(ids) > STUDENT_IDS_MAX:
        raise byway.BadUserInput(f"at most {STUDENT_IDS_MAX} ids at a time", field="ids")
    async with ctx.session() as session:
        found = await store.students_by_ids(session, ids)
    return [found.get(student_id) for student_id in ids]


@query.field("courseEnrollmentCount")
async def resolve_course_enrollment_count(_: Any, info: GraphQLResolveInfo[byway.RequestContext], courseId: str) -> int:
    """How many students are enrolled in a course (services and admins)."""
    ctx = info.context
    byway.require_service_or_admin(ctx.principal)
    async with ctx.session() as session:
        return await store.count_for_course(session, courseId)


# --- mutations ----------------------------------------------------------------------------------


@mutation.field("enrollMe")
async def resolve_enroll_me(_: Any, info: GraphQLResolveInfo[byway.RequestContext], courseId: str) -> Record:
    """Enroll the calling user in a published free course (creating their student); idempotent."""
    ctx = info.context
    user = byway.require_user(ctx.principal)
    course = await fetch_course(ctx.plugin, courseId, ctx.principal)
    if course is None or not course.get("published"):
        raise byway.NotFound(f"No published course with id {courseId}")
    if course["priceCents"] > 0:
        raise byway.Forbidden(f"'{course['title']}' is a paid course: buy it to enroll")
    async with ctx.session() as session:
        student, _created = await store.upsert_student(session, str(user.user_id), None)
        enrollment, _created = await store.upsert_enrollment(session, student["id"], courseId)
        await session.commit()
    return enrollment


@mutation.field("enrollStudent")
async def resolve_enroll_student(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], studentId: str, courseId: str
) -> Record:
    """Enroll an existing student in an existing course, free or paid (services and admins); idempotent."""
    ctx = info.context
    byway.require_service_or_admin(ctx.principal)
    async with ctx.session() as session:
        student = await store.get_student(session, studentId)
        # Do not sit in an open transaction while teach-internal is asked.
        await session.rollback()
    if student is None:
        raise byway.NotFound(f"No student with id {studentId}")
    if await fetch_course(ctx.plugin, courseId, "service") is None:
        raise byway.NotFound(f"No course with id {courseId}")
    async with ctx.session() as session:
        enrollment, _created = await store.upsert_enrollment(session, studentId, courseId)
        await session.commit()
    return enrollment


@mutation.field("registerStudent")
async def resolve_register_student(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], userId: str, displayName: str | None = None
) -> Record:
    """Create a user's student (the user themself, a service or an admin); returns the existing one on repeat."""
    ctx = info.context
    user_id, name = await authorize_registration(ctx.plugin, ctx.principal, userId, displayName)
    async with ctx.session() as session:
        student, _created = await store.upsert_student(session, user_id, name)
        await session.commit()
    return student


@mutation.field("revokeEnrollment")
async def resolve_revoke_enrollment(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], studentId: str, courseId: str
) -> bool:
    """Remove an enrollment (services and admins); true if there was one."""
    ctx = info.context
    byway.require_service_or_admin(ctx.principal)
    async with ctx.session() as session:
        removed = await store.delete_enrollment(session, studentId, courseId)
        await session.commit()
    return removed


BINDABLES = [query, mutation, *learning.BINDABLES]
