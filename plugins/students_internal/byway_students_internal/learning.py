"""The learning part of the GraphQL API of ``students-internal``: progress, completion, certificates.

* ``updateProgress`` and ``myProgress`` are the calling user's own (anonymous ``UNAUTHENTICATED``,
  services ``FORBIDDEN``); updating needs an enrollment in the lesson's course (``FORBIDDEN``), and
  an unknown lesson is ``NOT_FOUND``.
* ``certificate(courseId)`` is the caller's; ``studentByUserId`` is for services, admins and that user.
* ``Enrollment.progress``/``completed``/``completedAt``/``course``: see :mod:`.progress`.
"""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

import byway
from byway_students_internal import store
from byway_students_internal.progress import (
    certificate_url,
    certify_if_complete,
    course_outline_loader,
    enrollment_state,
    fetch_lesson,
)

query = QueryType()
mutation = MutationType()
enrollment_type = ObjectType("Enrollment")
certificate_type = ObjectType("Certificate")

Record = dict[str, Any]


@mutation.field("updateProgress")
async def resolve_update_progress(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], lessonId: str, completed: bool
) -> Record:
    """Mark a lesson done or not for the caller (enrolled in its course); may issue the certificate."""
    ctx = info.context
    user = byway.require_user(ctx.principal)
    lesson = await fetch_lesson(ctx.plugin, lessonId)
    if lesson is None:
        raise byway.NotFound(f"No lesson with id {lessonId}")
    course_id = str(lesson["courseId"])
    async with ctx.session() as session:
        student = await store.student_of_user(session, str(user.user_id))
        if student is None or not await store.enrolled_course_ids(session, student["id"], [course_id]):
            raise byway.Forbidden("Enroll in the course to record your progress")
        progress = await store.upsert_progress(session, student["id"], lessonId, course_id, completed)
        await session.commit()
    if completed:
        await certify_if_complete(ctx.plugin, student, course_id)
    return progress


@query.field("myProgress")
async def resolve_my_progress(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], courseId: str | None = None
) -> list[Record]:
    """The caller's progress records (of one course, or all)."""
    ctx = info.context
    user = byway.require_user(ctx.principal)
    async with ctx.session() as session:
        student = await store.student_of_user(session, str(user.user_id))
        return await store.progress_of(session, student["id"], courseId) if student else []


@query.field("studentByUserId")
async def resolve_student_by_user_id(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], userId: str
) -> Record | None:
    """A user's student: services, admins, or that user (null when there is none)."""
    ctx = info.context
    principal = ctx.principal
    if principal.is_anonymous:
        raise byway.Unauthenticated("You must be logged in")
    if not (principal.is_service or principal.is_admin or principal.user_id == userId):
        raise byway.Forbidden("You may only look up your own student")
    async with ctx.session() as session:
        return await store.student_of_user(session, userId)


@query.field("certificate")
async def resolve_certificate(_: Any, info: GraphQLResolveInfo[byway.RequestContext], courseId: str) -> Record | None:
    """The caller's certificate of the course (issued now if it was completed without one yet)."""
    ctx = info.context
    user = byway.require_user(ctx.principal)
    async with ctx.session() as session:
        student = await store.student_of_user(session, str(user.user_id))
        enrolled = student is not None and bool(await store.enrolled_course_ids(session, student["id"], [courseId]))
        await session.rollback()
    if student is None:
        return None
    if not enrolled:
        async with ctx.session() as session:
            found = await store.certificates_of(session, [(student["id"], courseId)])
        return found.get((student["id"], courseId))
    return await certify_if_complete(ctx.plugin, student, courseId)


@certificate_type.field("url")
def resolve_certificate_url(certificate: Record, info: GraphQLResolveInfo[byway.RequestContext]) -> str:
    """The public verification address."""
    return certificate_url(info.context.plugin, certificate["code"])


@enrollment_type.field("progress")
async def resolve_progress(enrollment: Record, info: GraphQLResolveInfo[byway.RequestContext]) -> int:
    """Percentage of the course's current lessons done."""
    percent, _certificate = await enrollment_state(info.context, enrollment)
    return percent


@enrollment_type.field("completed")
async def resolve_completed(enrollment: Record, info: GraphQLResolveInfo[byway.RequestContext]) -> bool:
    """Every current lesson done."""
    percent, _certificate = await enrollment_state(info.context, enrollment)
    return percent == 100


@enrollment_type.field("completedAt")
async def resolve_completed_at(enrollment: Record, info: GraphQLResolveInfo[byway.RequestContext]) -> str | None:
    """The first completion (the certificate's date)."""
    _percent, certificate = await enrollment_state(info.context, enrollment)
    return certificate["issuedAt"] if certificate else None


@enrollment_type.field("course")
async def resolve_enrolled_course(enrollment: Record, info: GraphQLResolveInfo[byway.RequestContext]) -> Record | None:
    """The course from teach-internal (one batched call per request)."""
    result: Record | None = await course_outline_loader(info.context).load(enrollment["courseId"])
    return result


BINDABLES = [query, mutation, enrollment_type, certificate_type]
