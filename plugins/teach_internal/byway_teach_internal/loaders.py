"""Per-request DataLoaders: modules, lessons and the caller's enrollments, each loaded in batches.

``enrollment_loader`` is what keeps ``Course.isEnrolled`` (and lesson content gating) at ONE call to
``students-internal`` per request, however many courses the response holds.
"""

from __future__ import annotations

from typing import Any

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode

from byway.client import CrossPluginError
from byway.context import DataLoader, RequestContext
from byway_teach_internal import store
from byway_teach_internal.operations import ENROLLMENT_STATUS

#: Where :func:`prime_enrollments` keeps a course's answer (read by the executor, see
#: ``byway.fast_execution.resolved_from``), or the failed call's error for the field to raise.
IS_ENROLLED = "_isEnrolled"
ENROLLED_ERROR = "_enrolledError"
#: students-internal's enrollmentStatus accepts at most this many course ids per call.
ENROLLMENT_STATUS_MAX_IDS = 500


def enrollment_loader(ctx: RequestContext) -> DataLoader[str, bool]:
    """Course id -> whether the calling *user* is enrolled (callers must be users)."""

    async def batch(course_ids: list[str]) -> list[bool]:
        enrolled: dict[str, bool] = {}
        for start in range(0, len(course_ids), ENROLLMENT_STATUS_MAX_IDS):
            chunk = course_ids[start : start + ENROLLMENT_STATUS_MAX_IDS]
            try:
                data = await ctx.client.call(
                    "students-internal", ENROLLMENT_STATUS, {"courseIds": chunk}, as_=ctx.principal
                )
            except CrossPluginError as exc:
                raise exc.for_caller("Could not check your enrollments") from exc
            for status in data.get("enrollmentStatus") or []:
                enrolled[status["courseId"]] = bool(status["enrolled"])
        return [enrolled.get(course_id, False) for course_id in course_ids]

    return ctx.loader("teach-internal.enrollment", batch)


def selects(info: Any, name: str) -> bool:
    """Whether the field being resolved selects a sub-field ``name`` (directly or in a fragment)."""

    def walk(selection_set: Any, seen: frozenset[str]) -> bool:
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                if selection.name.value == name:
                    return True
            elif isinstance(selection, InlineFragmentNode):
                if walk(selection.selection_set, seen):
                    return True
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                fragment = info.fragments.get(selection.name.value)
                if fragment is not None and walk(fragment.selection_set, seen | {selection.name.value}):
                    return True
        return False

    return any(walk(node.selection_set, frozenset()) for node in info.field_nodes)


async def prime_enrollments(ctx: RequestContext, info: Any, courses: list[dict[str, Any]]) -> None:
    """When the response asks for ``isEnrolled``, load it for every course of a list at once (ONE
    call, as the loader would) and keep each answer on its course, so that ``Course.isEnrolled``
    is a plain value for graphql-core, not 50 awaitables. A failed call is kept on each course:
    each field raises it, as when every field awaited the loader. Anonymous callers are never enrolled: no call.
    """
    if not courses or not selects(info, "isEnrolled"):
        return
    if not ctx.principal.is_user:
        for course in courses:
            course[IS_ENROLLED] = False
        return
    try:
        values = await enrollment_loader(ctx).load_now([course["id"] for course in courses])
    except Exception as exc:
        for course in courses:
            course[ENROLLED_ERROR] = exc
        return
    for course, value in zip(courses, values, strict=True):
        course[IS_ENROLLED] = bool(value)


def modules_loader(ctx: RequestContext) -> DataLoader[str, list[dict[str, Any]]]:
    """Course id -> its modules by position (one query for all the courses of a response)."""

    async def batch(course_ids: list[str]) -> list[list[dict[str, Any]]]:
        async with ctx.session() as session:
            grouped = await store.modules_of_courses(session, course_ids)
        return [grouped[course_id] for course_id in course_ids]

    return ctx.loader("teach-internal.modules", batch)


def lessons_loader(ctx: RequestContext) -> DataLoader[str, list[dict[str, Any]]]:
    """Module id -> its lessons by position (one query for all the modules of a response)."""

    async def batch(module_ids: list[str]) -> list[list[dict[str, Any]]]:
        async with ctx.session() as session:
            grouped = await store.lessons_of_modules(session, module_ids)
        return [grouped[module_id] for module_id in module_ids]

    return ctx.loader("teach-internal.lessons", batch)
