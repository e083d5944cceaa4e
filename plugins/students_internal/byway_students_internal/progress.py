"""Lesson progress, course completion and certificates of ``students-internal``.

* A lesson and its course come from ``teach-internal`` (``lessonsByIds``, as service), never from
  the client. Progress is one row per (student, lesson), an upsert.
* A course is completed when every one of its *current* lessons is done (its ``lessonIds`` from
  ``teach-internal``); ``progress`` is the percentage done, rounded down, so 100 means all of them.
* On the first completion a certificate is issued once (unique per student and course, with an
  unguessable public code); its date is ``completedAt``. Adding a lesson later lowers the
  percentage but keeps the certificate and its date.
* ``Enrollment.course``/``progress``/``completed``/``completedAt`` for any number of enrollments
  cost ONE call to teach-internal per request (``course_outline_loader``) and one query each for
  progress and certificates.
"""

from __future__ import annotations

from typing import Any

import byway
from byway_students_internal import store
from byway_students_internal.operations import COURSE_OUTLINES, LESSONS, USER_NAMES

Record = dict[str, Any]

#: teach-internal's and authentication's by-ids queries accept at most this many ids per call.
IDS_MAX = 500
#: The name on a certificate when nothing better is known.
ANONYMOUS_LEARNER = "A Byway learner"
CERTIFICATES_PATH = "/api/students-internal/certificates/"


async def _by_ids(plugin: byway.PluginRuntime, target: str, document: str, ids: list[str], what: str) -> list[Any]:
    entries: list[Any] = []
    for start in range(0, len(ids), IDS_MAX):
        try:
            data = await plugin.client.call(target, document, {"ids": ids[start : start + IDS_MAX]}, as_="service")
        except byway.CrossPluginError as exc:
            raise exc.for_caller(what) from exc
        entries.extend(next(iter(data.values())) or [])
    return entries


async def fetch_lesson(plugin: byway.PluginRuntime, lesson_id: str) -> Record | None:
    """The lesson ``{id, courseId}`` as teach-internal knows it, or None."""
    entries = await _by_ids(plugin, "teach-internal", LESSONS, [lesson_id], "Could not check the lesson")
    lesson: Record | None = entries[0] if entries else None
    return lesson


async def fetch_outlines(plugin: byway.PluginRuntime, course_ids: list[str]) -> dict[str, Record]:
    """``{id, title, coverUrl, lessonCount, lessonIds}`` of the courses teach-internal has, by id."""
    entries = await _by_ids(plugin, "teach-internal", COURSE_OUTLINES, course_ids, "Could not fetch the courses")
    return {entry["id"]: entry for entry in entries if entry}


def course_outline_loader(ctx: byway.RequestContext) -> byway.DataLoader[str, Record | None]:
    """Course id -> its outline from teach-internal: ONE call per request for all enrollments."""

    async def batch(course_ids: list[str]) -> list[Record | None]:
        found = await fetch_outlines(ctx.plugin, course_ids)
        return [found.get(course_id) for course_id in course_ids]

    return ctx.loader("students-internal.course-outline", batch)


def completed_loader(ctx: byway.RequestContext) -> byway.DataLoader[str, set[str]]:
    """Student id -> the lessons they completed (one query for all the students of a response)."""

    async def batch(student_ids: list[str]) -> list[set[str]]:
        async with ctx.session() as session:
            done = await store.completed_lessons(session, student_ids)
        return [done[student_id] for student_id in student_ids]

    return ctx.loader("students-internal.completed", batch)


def certificate_loader(ctx: byway.RequestContext) -> byway.DataLoader[tuple[str, str], Record | None]:
    """(student id, course id) -> the certificate, or None (one query per response)."""

    async def batch(pairs: list[tuple[str, str]]) -> list[Record | None]:
        async with ctx.session() as session:
            found = await store.certificates_of(session, pairs)
        return [found.get(pair) for pair in pairs]

    return ctx.loader("students-internal.certificate", batch)


def percentage(done: set[str], lesson_ids: list[str]) -> int:
    """The percentage (0-100, rounded down) of ``lesson_ids`` in ``done``; 0 for a course without lessons."""
    if not lesson_ids:
        return 0
    return sum(1 for lesson in lesson_ids if lesson in done) * 100 // len(lesson_ids)


async def enrollment_state(ctx: byway.RequestContext, enrollment: Record) -> tuple[int, Record | None]:
    """The enrollment's progress percentage and certificate (batched over the response)."""
    outline = await course_outline_loader(ctx).load(enrollment["courseId"])
    done = await completed_loader(ctx).load(enrollment["studentId"])
    certificate = await certificate_loader(ctx).load((enrollment["studentId"], enrollment["courseId"]))
    return percentage(done, outline["lessonIds"] if outline else []), certificate


async def learner_name(plugin: byway.PluginRuntime, student: Record) -> str:
    """The name to print on a certificate: the student's display name, else the user's name."""
    if student.get("displayName"):
        return str(student["displayName"])
    if plugin.knows("authentication"):
        users = await _by_ids(plugin, "authentication", USER_NAMES, [student["userId"]], "Could not fetch your name")
        user = users[0] if users else None
        if user and user.get("displayName"):
            return str(user["displayName"])
    return ANONYMOUS_LEARNER


async def certify_if_complete(plugin: byway.PluginRuntime, student: Record, course_id: str) -> Record | None:
    """The student's certificate of the course: the existing one, or one issued now if every lesson is done."""
    async with plugin.sessions() as session:
        existing = await store.certificates_of(session, [(student["id"], course_id)])
    if existing:
        return existing[(student["id"], course_id)]
    outline = (await fetch_outlines(plugin, [course_id])).get(course_id)
    if outline is None or not outline["lessonIds"]:
        return None
    async with plugin.sessions() as session:
        done = (await store.completed_lessons(session, [student["id"]]))[student["id"]]
    if percentage(done, outline["lessonIds"]) < 100:
        return None
    name = await learner_name(plugin, student)
    async with plugin.sessions() as session:
        certificate, _issued = await store.issue_certificate(
            session, student["id"], course_id, student_name=name, course_title=outline["title"]
        )
        await session.commit()
    return certificate


def certificate_url(plugin: byway.PluginRuntime, code: str) -> str:
    """Where anyone can verify a certificate."""
    return plugin.settings.public_url + CERTIFICATES_PATH + code
