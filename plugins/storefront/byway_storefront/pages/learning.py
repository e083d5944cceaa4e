"""The catalog, a course, and a lesson: what a learner browses and takes."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from byway import CrossPluginError
from byway_storefront.operations import (
    CATALOG,
    COURSE,
    LESSON_COURSE,
    LESSON_COURSE_ID,
    MY_PROGRESS,
    UPDATE_PROGRESS,
)
from byway_storefront.site import Visit

DIFFICULTIES = ("BEGINNER", "INTERMEDIATE", "ADVANCED")
#: Longest search text passed on (the catalog treats it as text, never syntax).
MAX_SEARCH = 200


def catalog_filters(visit: Visit) -> dict[str, Any]:
    """The catalog's filters from the query string, normalised (unknown values are ignored)."""
    params = visit.request.query_params
    difficulty = params.get("difficulty", "").strip().upper()
    price = params.get("price", "").strip().lower()
    return {
        "q": params.get("q", "").strip()[:MAX_SEARCH],
        "category": params.get("category", "").strip()[:60],
        "difficulty": difficulty if difficulty in DIFFICULTIES else "",
        "price": price if price in ("free", "paid") else "",
    }


async def catalog(visit: Visit) -> Response:
    """``/``: search, filters, pages of course cards (one call to teach-internal)."""
    filters = catalog_filters(visit)
    after = visit.request.query_params.get("after", "").strip()[:64] or None
    size = visit.config.page_size
    variables = {
        "first": size + 1,
        "after": after,
        "search": filters["q"] or None,
        "category": filters["category"] or None,
        "difficulty": filters["difficulty"] or None,
        "free": {"free": True, "paid": False}.get(filters["price"]),
    }
    data = await visit.call("teach-internal", CATALOG, variables)
    courses = data["courses"]
    next_url = None
    if len(courses) > size:
        courses = courses[:size]
        next_url = visit.url("/", **filters, after=courses[-1]["id"])
    first_url = visit.url("/", **filters) if after else None
    return visit.render(
        "catalog.html",
        courses=courses,
        total=data["courseCount"],
        categories=data["categories"],
        filters=filters,
        difficulties=DIFFICULTIES,
        next_url=next_url,
        first_url=first_url,
    )


async def _progress(visit: Visit, course_id: str) -> dict[str, bool] | None:
    """The visitor's completed lessons of a course (None for anonymous visitors or when unavailable)."""
    if not visit.session.signed_in:
        return None
    try:
        data = await visit.call("students-internal", MY_PROGRESS, {"courseId": course_id})
    except CrossPluginError:
        return None
    return {p["lessonId"]: bool(p["completed"]) for p in data["myProgress"]}


def _lessons(course: dict[str, Any]) -> list[dict[str, Any]]:
    """Every lesson of the course in reading order, each with its module's title."""
    ordered = []
    for module in sorted(course["modules"], key=lambda m: m["position"]):
        for lesson in sorted(module["lessons"], key=lambda lesson: lesson["position"]):
            ordered.append({**lesson, "moduleTitle": module["title"]})
    return ordered


def _is_owner(visit: Visit, course: dict[str, Any]) -> bool:
    return visit.session.signed_in and course.get("teacherId") == visit.session.principal.user_id


def _percent(done: dict[str, bool] | None, lessons: list[dict[str, Any]]) -> int:
    if not done or not lessons:
        return 0
    return round(100 * sum(1 for lesson in lessons if done.get(lesson["id"])) / len(lessons))


async def course_page(visit: Visit) -> Response:
    """``/courses/<id>``: description, teacher, syllabus, progress and the one right action.

    Two calls at most, made together: the course (teach-internal) and the visitor's progress
    (students-internal, signed-in visitors only).
    """
    course_id = visit.request.path_params["course_id"]
    course_data, done = await asyncio.gather(
        visit.call("teach-internal", COURSE, {"id": course_id}), _progress(visit, course_id)
    )
    course = course_data["course"]
    if course is None:
        return visit.site.problem(visit, 404, "not-found")
    owner = _is_owner(visit, course)
    lessons = _lessons(course)
    open_all = course["isEnrolled"] or owner or visit.session.principal.is_admin
    next_lesson = next(
        (lesson for lesson in lessons if not (done or {}).get(lesson["id"])), lessons[0] if lessons else None
    )
    return visit.render(
        "course.html",
        course=course,
        lessons=lessons,
        done=done or {},
        percent=_percent(done, lessons) if course["isEnrolled"] else None,
        owner=owner,
        open_all=open_all,
        next_lesson=next_lesson,
    )


def _find(lessons: list[dict[str, Any]], lesson_id: str) -> int | None:
    return next((i for i, lesson in enumerate(lessons) if lesson["id"] == lesson_id), None)


async def _course_of_lesson(visit: Visit, lesson_id: str) -> str | None:
    """The course of a lesson, for links without ``?course=`` (the storefront's own links always say)."""
    data = await visit.plugin.client.call("teach-internal", LESSON_COURSE_ID, {"ids": [lesson_id[:64]]}, as_="service")
    found = data["lessonsByIds"][0] if data["lessonsByIds"] else None
    return str(found["courseId"]) if found else None


async def lesson_page(visit: Visit) -> Response:
    """``/lessons/<id>`` (``?course=<id>`` saves a call): the lesson, Mark complete, previous and next.

    Two calls, made together: the course with its gated lessons (teach-internal) and the visitor's
    progress (students-internal); plus one to learn the lesson's course when the link does not say.
    """
    lesson_id = visit.request.path_params["lesson_id"]
    course_id = visit.request.query_params.get("course", "").strip()[:64] or await _course_of_lesson(visit, lesson_id)
    if not course_id:
        return visit.site.problem(visit, 404, "not-found")
    course_data, done = await asyncio.gather(
        visit.call("teach-internal", LESSON_COURSE, {"id": course_id}), _progress(visit, course_id)
    )
    course = course_data["course"]
    lessons = _lessons(course) if course else []
    index = _find(lessons, lesson_id)
    if course is None or index is None:
        return visit.site.problem(visit, 404, "not-found")
    lesson = lessons[index]
    owner = _is_owner(visit, course)
    return visit.render(
        "lesson.html",
        course=course,
        lesson=lesson,
        locked=not (lesson["preview"] or course["isEnrolled"] or owner or visit.session.principal.is_admin),
        previous=lessons[index - 1] if index > 0 else None,
        following=lessons[index + 1] if index + 1 < len(lessons) else None,
        completed=bool((done or {}).get(lesson_id)),
        enrolled=course["isEnrolled"],
        position=index + 1,
        count=len(lessons),
    )


async def mark_progress(visit: Visit) -> Response:
    """POST ``/lessons/<id>/progress``: mark the lesson done (or not), then go on to the next one."""
    visit.require_user()
    lesson_id = visit.request.path_params["lesson_id"]
    course_id = visit.form.text("course")[:64]
    completed = visit.form.get("completed") == "true"
    await visit.call("students-internal", UPDATE_PROGRESS, {"lessonId": lesson_id, "completed": completed})
    following = visit.form.text("next")[:64]
    if completed and following:
        return visit.redirect(f"/lessons/{quote(following, safe='')}", course=course_id, notice="completed")
    if completed:
        return visit.redirect(f"/courses/{quote(course_id, safe='')}", notice="completed")
    return visit.redirect(f"/lessons/{quote(lesson_id, safe='')}", course=course_id, notice="not-completed")
