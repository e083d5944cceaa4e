"""Per-request DataLoaders: modules, lessons, counts, teachers and the caller's enrollments, in batches.

``enrollment_loader`` is what keeps ``Course.isEnrolled`` (and lesson content gating) at ONE call to
``students-internal`` per request, and ``teacher_loader`` ``Course.teacher`` at ONE call to
``authentication`` and ONE to ``teach``, however many courses the response holds.

A list of courses asking for ``isEnrolled`` asks for the caller's enrolled course ids
(``enrolledCourseIds``, one cheap read of the (student, course) index) rather than about its own
ids, which it does not know before its statement: where reads wait (a database server),
:class:`Enrollments` asks while the list is read, so that the two waits (two databases, or an
HTTP call and a database) overlap. A student with :data:`ENROLLED_IDS_ASKED` enrollments or more
is asked about the list's ids (``enrollmentStatus``) after the statement.
"""

from __future__ import annotations

import asyncio
from typing import Any

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode

import byway
from byway_teach_internal import store
from byway_teach_internal.operations import (
    ENROLLED_IDS_ASKED,
    ENROLLMENT_STATUS,
    TEACHER_PROFILES,
    TEACHER_USERS,
    enrolled_course_ids,
)

#: Where :meth:`Enrollments.prime` keeps a course's answer (read by the executor, see
#: ``byway.fast_execution.resolved_from``), or the failed call's error for the field to raise.
IS_ENROLLED = "_isEnrolled"
ENROLLED_ERROR = "_enrolledError"
#: students-internal's enrollmentStatus (and the by-ids queries) accept at most this many ids per call.
ENROLLMENT_STATUS_MAX_IDS = 500
IDS_MAX = 500


def enrollment_loader(ctx: byway.RequestContext) -> byway.DataLoader[str, bool]:
    """Course id -> whether the calling *user* is enrolled (callers must be users)."""

    async def batch(course_ids: list[str]) -> list[bool]:
        enrolled: dict[str, bool] = {}
        for start in range(0, len(course_ids), ENROLLMENT_STATUS_MAX_IDS):
            chunk = course_ids[start : start + ENROLLMENT_STATUS_MAX_IDS]
            try:
                data = await ctx.client.call(
                    "students-internal", ENROLLMENT_STATUS, {"courseIds": chunk}, as_=ctx.principal
                )
            except byway.CrossPluginError as exc:
                raise exc.for_caller("Could not check your enrollments") from exc
            statuses = data.get("enrollmentStatus") or []
            enrolled.update((status["courseId"], bool(status["enrolled"])) for status in statuses)
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


class Enrollments:
    """``isEnrolled`` for the courses of one list, asked alongside the list's own statement where
    the plugin's reads wait (``ctx.reads_wait``), after it elsewhere.

    ``async with Enrollments(ctx, info) as enrollments:``, read the list inside the block, then
    ``await enrollments.prime(courses)``. Leaving the block without needing the answer (an error,
    a cancelled request) cancels a call started ahead. ``course_ids``: the ids the list may hold,
    when known before it is read (``coursesByIds``): those are asked about.
    """

    def __init__(self, ctx: byway.RequestContext, info: Any, course_ids: list[str] | None = None) -> None:
        self._ctx = ctx
        self._selected = selects(info, "isEnrolled")
        self._asked = self._selected and ctx.principal.is_user
        self._course_ids = course_ids
        #: The call started ahead: the caller's enrolled course ids to prime the loader with (None:
        #: nothing to prime).
        self._ahead: asyncio.Task[frozenset[str] | None] | None = None

    async def __aenter__(self) -> Enrollments:
        if self._asked and self._ctx.reads_wait:
            self._ahead = asyncio.get_running_loop().create_task(self._enrolled())
        return self

    async def __aexit__(self, *_: object) -> None:
        ahead = self._ahead
        if ahead is None:
            return
        if not ahead.done():
            ahead.cancel()  # the list failed before it needed the answer
        elif not ahead.cancelled():
            ahead.exception()  # retrieved: a failure nobody awaited is not logged as lost

    async def _enrolled(self) -> frozenset[str] | None:
        """The caller's enrolled course ids, to prime the loader with; None when there is nothing
        to prime: the ids were known (``course_ids``: the loader now holds their answers) or the
        caller has too many enrollments to hold."""
        if self._course_ids is not None:
            await enrollment_loader(self._ctx).load_now(self._course_ids)
            return None
        try:
            data = await self._ctx.client.call(
                "students-internal", enrolled_course_ids(ENROLLED_IDS_ASKED), as_=self._ctx.principal
            )
        except byway.CrossPluginError as exc:
            raise exc.for_caller("Could not check your enrollments") from exc
        ids = data.get("enrolledCourseIds") or []
        return frozenset(ids) if len(ids) < ENROLLED_IDS_ASKED else None

    async def prime(self, courses: list[dict[str, Any]]) -> None:
        """Keep on each course whether the caller is enrolled in it (``IS_ENROLLED``), when the
        response asks for ``isEnrolled``, so that ``Course.isEnrolled`` is a plain value for
        graphql-core, not 50 awaitables; the answers also prime ``enrollment_loader`` (lesson
        content gating asks it). A failed call is kept on each course (``ENROLLED_ERROR``): each
        field raises it, as when every field awaited the loader. Anonymous callers are never
        enrolled: no call.
        """
        if not courses or not self._selected:
            return
        if not self._asked:
            for course in courses:
                course[IS_ENROLLED] = False
            return
        ids = [course["id"] for course in courses]
        loader = enrollment_loader(self._ctx)
        try:
            enrolled = await (self._ahead if self._ahead is not None else self._enrolled())
            if enrolled is not None:
                loader.prime({course_id: course_id in enrolled for course_id in ids})
            values = await loader.load_now(ids)  # asks only about ids nobody answered yet
        except Exception as exc:
            for course in courses:
                course[ENROLLED_ERROR] = exc
            return
        for course, value in zip(courses, values, strict=True):
            course[IS_ENROLLED] = bool(value)


def modules_loader(ctx: byway.RequestContext) -> byway.DataLoader[str, list[dict[str, Any]]]:
    """Course id -> its modules by position (one query for all the courses of a response)."""

    async def batch(course_ids: list[str]) -> list[list[dict[str, Any]]]:
        async with ctx.session() as session:
            grouped = await store.modules_of_courses(session, course_ids)
        return [grouped[course_id] for course_id in course_ids]

    return ctx.loader("teach-internal.modules", batch)


def lessons_loader(ctx: byway.RequestContext) -> byway.DataLoader[str, list[dict[str, Any]]]:
    """Module id -> its lessons by position (one query for all the modules of a response)."""

    async def batch(module_ids: list[str]) -> list[list[dict[str, Any]]]:
        async with ctx.session() as session:
            grouped = await store.lessons_of_modules(session, module_ids)
        return [grouped[module_id] for module_id in module_ids]

    return ctx.loader("teach-internal.lessons", batch)


def lesson_count_loader(ctx: byway.RequestContext) -> byway.DataLoader[str, int]:
    """Course id -> how many lessons it has (one query for all the courses of a response)."""

    async def batch(course_ids: list[str]) -> list[int]:
        async with ctx.session() as session:
            counts = await store.lesson_counts(session, course_ids)
        return [counts[course_id] for course_id in course_ids]

    return ctx.loader("teach-internal.lesson-count", batch)


def lesson_ids_loader(ctx: byway.RequestContext) -> byway.DataLoader[str, list[str]]:
    """Course id -> its lesson ids in outline order (one query for all the courses of a response)."""

    async def batch(course_ids: list[str]) -> list[list[str]]:
        async with ctx.session() as session:
            grouped = await store.lesson_ids_of_courses(session, course_ids)
        return [grouped[course_id] for course_id in course_ids]

    return ctx.loader("teach-internal.lesson-ids", batch)


async def _by_ids(ctx: byway.RequestContext, plugin: str, document: str, ids: list[str], what: str) -> list[Any]:
    """The single root field's entries of a by-ids query sent as service, chunk by chunk."""
    entries: list[Any] = []
    for start in range(0, len(ids), IDS_MAX):
        try:
            data = await ctx.client.call(plugin, document, {"ids": ids[start : start + IDS_MAX]}, as_="service")
        except byway.CrossPluginError as exc:
            raise exc.for_caller(what) from exc
        entries.extend(next(iter(data.values())) or [])
    return entries


def teacher_loader(ctx: byway.RequestContext) -> byway.DataLoader[str, dict[str, Any] | None]:
    """Teacher user id -> ``CourseTeacher``: one call to authentication, then one to teach, per request.

    None when authentication is not available to this plugin (nothing to say who the teacher is).
    """

    async def batch(user_ids: list[str]) -> list[dict[str, Any] | None]:
        if not ctx.plugin.knows("authentication"):
            return [None] * len(user_ids)
        users = await _by_ids(ctx, "authentication", TEACHER_USERS, user_ids, "Could not fetch the teachers")
        found = {user["id"]: user for user in users if user}
        profile_ids = sorted({u["teacherProfileId"] for u in found.values() if u.get("teacherProfileId")})
        profiles: dict[str, dict[str, Any]] = {}
        if profile_ids and ctx.plugin.knows("teach"):
            entries = await _by_ids(ctx, "teach", TEACHER_PROFILES, profile_ids, "Could not fetch the teachers")
            profiles = {p["userId"]: p for p in entries if p}
        result: list[dict[str, Any] | None] = []
        for user_id in user_ids:
            user = found.get(user_id)
            if user is None:
                result.append(None)
                continue
            profile = profiles.get(user_id) or {}
            result.append(
                {
                    "userId": user_id,
                    "displayName": user.get("displayName"),
                    "bio": profile.get("bio"),
                    "avatarUrl": user.get("avatarUrl"),
                }
            )
        return result

    return ctx.loader("teach-internal.teacher", batch)
