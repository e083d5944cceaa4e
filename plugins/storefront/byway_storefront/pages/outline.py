"""``/teach`` outlines: add, rename, move and delete modules; add, edit, move and delete lessons."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from byway import CrossPluginError
from byway_storefront.operations import (
    CREATE_LESSON,
    CREATE_MODULE,
    DELETE_LESSON,
    DELETE_MODULE,
    REORDER_LESSONS,
    REORDER_MODULES,
    UPDATE_LESSON,
    UPDATE_MODULE,
)
from byway_storefront.pages.teach import LESSON_TYPES, edit_path, owned_course, refusal_errors
from byway_storefront.site import Visit

#: teach-internal's argument names → the form fields that carry them.
LESSON_FIELDS = {
    "title": "title",
    "content": "content",
    "type": "type",
    "duration": "duration",
    "videoUrl": "videoUrl",
    "preview": "preview",
}


async def add_module(visit: Visit) -> Response:
    """POST ``/teach/courses/<id>/modules``: append a module."""
    visit.require_user()
    course_id = visit.request.path_params["course_id"]
    title = visit.form.text("title")
    if not title:
        return visit.site.problem(visit, 400, "bad-request", "A module needs a title.")
    await visit.call("teach-internal", CREATE_MODULE, {"courseId": course_id, "title": title})
    return visit.redirect(edit_path(course_id, notice="saved"))


async def update_module(visit: Visit) -> Response:
    """POST ``/teach/modules/<id>``: rename a module."""
    visit.require_user()
    title = visit.form.text("title")
    if not title:
        return visit.site.problem(visit, 400, "bad-request", "A module needs a title.")
    await visit.call("teach-internal", UPDATE_MODULE, {"id": visit.request.path_params["module_id"], "title": title})
    return visit.redirect(edit_path(visit.form.text("course"), notice="saved"))


async def delete_module(visit: Visit) -> Response:
    """POST ``/teach/modules/<id>/delete``: delete a module and its lessons."""
    visit.require_user()
    await visit.call("teach-internal", DELETE_MODULE, {"id": visit.request.path_params["module_id"]})
    return visit.redirect(edit_path(visit.form.text("course"), notice="deleted"))


def moved(ids: list[str], item: str, direction: str) -> list[str] | None:
    """``ids`` with ``item`` moved one place up or down (None when it cannot move)."""
    if item not in ids:
        return None
    i = ids.index(item)
    j = i - 1 if direction == "up" else i + 1
    if j < 0 or j >= len(ids):
        return None
    order = list(ids)
    order[i], order[j] = order[j], order[i]
    return order


async def move_module(visit: Visit) -> Response:
    """POST ``/teach/courses/<id>/modules/move``: move a module up or down (reorderModules)."""
    visit.require_user()
    course_id = visit.request.path_params["course_id"]
    course = await owned_course(visit, course_id)
    if course is None:
        return visit.site.problem(visit, 404, "not-found")
    order = moved([m["id"] for m in course["modules"]], visit.form.text("id"), visit.form.text("direction"))
    if order is not None:
        await visit.call("teach-internal", REORDER_MODULES, {"courseId": course_id, "ids": order})
    return visit.redirect(edit_path(course_id, notice="saved"))


async def move_lesson(visit: Visit) -> Response:
    """POST ``/teach/modules/<id>/lessons/move``: move a lesson up or down (reorderLessons)."""
    visit.require_user()
    module_id = visit.request.path_params["module_id"]
    course_id = visit.form.text("course")
    course = await owned_course(visit, course_id)
    module = next((m for m in (course or {}).get("modules", []) if m["id"] == module_id), None)
    if module is None:
        return visit.site.problem(visit, 404, "not-found")
    order = moved([lesson["id"] for lesson in module["lessons"]], visit.form.text("id"), visit.form.text("direction"))
    if order is not None:
        await visit.call("teach-internal", REORDER_LESSONS, {"moduleId": module_id, "ids": order})
    return visit.redirect(edit_path(course_id, notice="saved"))


def lesson_variables(visit: Visit) -> tuple[dict[str, Any], dict[str, str]]:
    """The lesson form as createLesson/updateLesson arguments, with errors for what cannot be sent."""
    form = visit.form
    errors: dict[str, str] = {}
    title = form.text("title")
    if not title:
        errors["title"] = "Give the lesson a title."
    kind = form.text("type").upper()
    duration: int | None = None
    if form.text("duration"):
        try:
            duration = round(float(form.text("duration")) * 60)
            if not 0 <= duration <= 24 * 3600:
                raise ValueError
        except ValueError:
            errors["duration"] = "Enter the duration in minutes, e.g. 5."
    return (
        {
            "title": title,
            "content": form.get("content").strip() or None,
            "preview": form.checked("preview"),
            "type": kind if kind in LESSON_TYPES else "TEXT",
            "duration": duration,
            "videoUrl": form.text("videoUrl") or None,
        },
        errors,
    )


async def add_lesson(visit: Visit) -> Response:
    """POST ``/teach/modules/<id>/lessons``: append a lesson to a module."""
    visit.require_user()
    course_id = visit.form.text("course")
    variables, errors = lesson_variables(visit)
    if errors:
        return visit.site.problem(visit, 400, "bad-request", " ".join(errors.values()))
    try:
        await visit.call(
            "teach-internal", CREATE_LESSON, {"moduleId": visit.request.path_params["module_id"], **variables}
        )
    except CrossPluginError as exc:
        message = refusal_errors(exc, LESSON_FIELDS)
        return visit.site.problem(visit, 400, "bad-request", " ".join(message.values()))
    return visit.redirect(edit_path(course_id, notice="saved"))


async def edit_lesson(visit: Visit) -> Response:
    """``/teach/lessons/<id>?course=<id>``: edit every field of a lesson; POST saves it."""
    visit.require_user()
    lesson_id = visit.request.path_params["lesson_id"]
    course_id = (
        visit.form.text("course") if visit.request.method == "POST" else None
    ) or visit.request.query_params.get("course", "")
    errors: dict[str, str] = {}
    if visit.request.method == "POST":
        variables, errors = lesson_variables(visit)
        if not errors:
            try:
                await visit.call("teach-internal", UPDATE_LESSON, {"id": lesson_id, **variables})
            except CrossPluginError as exc:
                errors = refusal_errors(exc, LESSON_FIELDS)
            else:
                return visit.redirect(edit_path(course_id, notice="saved"))
    course = await owned_course(visit, course_id) if course_id else None
    lessons = [lesson for m in (course or {}).get("modules", []) for lesson in m["lessons"]]
    lesson = next((item for item in lessons if item["id"] == lesson_id), None)
    if course is None or lesson is None:
        return visit.site.problem(visit, 404, "not-found")
    values = (
        visit.form.values()
        if errors
        else {
            "title": lesson["title"],
            "type": lesson.get("type") or "TEXT",
            "duration": f"{lesson['duration'] / 60:g}" if lesson.get("duration") else "",
            "videoUrl": lesson.get("videoUrl") or "",
            "content": lesson.get("content") or "",
            "preview": "on" if lesson["preview"] else "",
        }
    )
    return visit.render(
        "teach_lesson.html",
        status=400 if errors else 200,
        course=course,
        lesson=lesson,
        values=values,
        errors=errors,
        lesson_types=LESSON_TYPES,
    )


async def delete_lesson(visit: Visit) -> Response:
    """POST ``/teach/lessons/<id>/delete``: delete a lesson (its learners' progress on it goes too)."""
    visit.require_user()
    await visit.call("teach-internal", DELETE_LESSON, {"id": visit.request.path_params["lesson_id"]})
    return visit.redirect(edit_path(visit.form.text("course"), notice="deleted"))
