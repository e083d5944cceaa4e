"""Per-request DataLoaders: modules, lessons and the caller's enrollments, each loaded in batches.

``enrollment_loader`` is what keeps ``Course.isEnrolled`` (and lesson content gating) at ONE call to
``students-internal`` per request, however many courses the response holds.
"""

from __future__ import annotations

from typing import Any

from byway.client import CrossPluginError
from byway.context import DataLoader, RequestContext
from byway_teach_internal import store
from byway_teach_internal.operations import ENROLLMENT_STATUS

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
