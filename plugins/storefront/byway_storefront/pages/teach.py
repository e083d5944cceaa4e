"""``/teach``: become a teacher, create and edit courses, modules and lessons, publish."""

from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from byway.client import CrossPluginError
from byway_storefront.operations import (
    CREATE_COURSE,
    CREATE_LESSON,
    CREATE_MODULE,
    CREATE_TEACHER_PROFILE,
    DELETE_LESSON,
    DELETE_MODULE,
    EDIT_COURSE,
    MY_TEACHER_PROFILE,
    PUBLISH_COURSE,
    REORDER_LESSONS,
    REORDER_MODULES,
    TEACHING_COURSES,
    UPDATE_COURSE,
    UPDATE_LESSON,
    UPDATE_MODULE,
)
from byway_storefront.pages.learning import DIFFICULTIES
from byway_storefront.site import Visit

LESSON_TYPES = ("TEXT", "VIDEO", "QUIZ")
#: teach-internal's argument names → the form fields that carry them.
COURSE_FIELDS = {
    "priceCents": "price",
    "currency": "currency",
    "title": "title",
    "description": "description",
    "category": "category",
    "difficulty": "difficulty",
    "coverUrl": "coverUrl",
}
LESSON_FIELDS = {
    "title": "title",
    "content": "content",
    "type": "type",
    "duration": "duration",
    "videoUrl": "videoUrl",
    "preview": "preview",
}


def edit_path(course_id: str, **query: str) -> str:
    """The course's editing page."""
    path = f"/teach/courses/{quote(course_id, safe='')}"
    return path + ("?" + "&".join(f"{k}={quote(v)}" for k, v in query.items()) if query else "")


def refusal_errors(exc: CrossPluginError, fields: dict[str, str]) -> dict[str, str]:
    """A refusal as errors beside the form's fields (``form`` for the whole form)."""
    if exc.code == "BAD_USER_INPUT":
        return {fields.get(str(exc.extensions.get("field")), "form"): exc.remote_message}
    if exc.code in ("FORBIDDEN", "NOT_FOUND", "CONFLICT"):
        return {"form": exc.remote_message}
    raise exc


async def teach_home(visit: Visit) -> Response:
    """``/teach``: the teacher profile (or the form to create one) and the visitor's courses (two calls)."""
    visit.require_user()
    profile_data, courses_data = await asyncio.gather(
        visit.call("teach", MY_TEACHER_PROFILE), visit.call("teach-internal", TEACHING_COURSES)
    )
    return visit.render(
        "teach.html",
        profile=profile_data["myTeacherProfile"],
        courses=courses_data["teachingCourses"],
        errors={},
        values={},
    )


async def create_profile(visit: Visit) -> Response:
    """POST ``/teach/profile``: become a teacher (an admin then verifies the profile)."""
    visit.require_user()
    bio = visit.form.text("bio")
    subjects = [s.strip() for s in visit.form.get("subjects").split(",") if s.strip()]
    errors: dict[str, str] = {}
    if not bio:
        errors["bio"] = "Tell learners who you are and what you teach."
    else:
        try:
            await visit.call("teach", CREATE_TEACHER_PROFILE, {"bio": bio, "subjects": subjects})
        except CrossPluginError as exc:
            errors = refusal_errors(exc, {"bio": "bio", "subjects": "subjects"})
        else:
            return visit.redirect("/teach", notice="profile-created")
    return visit.render("teach.html", status=400, profile=None, courses=[], errors=errors, values=visit.form.values())


def course_variables(visit: Visit) -> tuple[dict[str, Any], dict[str, str]]:
    """The course form as createCourse/updateCourse arguments, with errors for what cannot be sent."""
    form = visit.form
    errors: dict[str, str] = {}
    title = form.text("title")
    if not title:
        errors["title"] = "Give the course a title."
    price_text = form.text("price") or "0"
    try:
        price = Decimal(price_text)
        if not price.is_finite() or price < 0 or price > Decimal("1000000"):
            raise InvalidOperation
        cents = int((price * 100).to_integral_value())
    except InvalidOperation:
        errors["price"] = "Enter a price such as 49.00, or 0 for a free course."
        cents = 0
    difficulty = form.text("difficulty").upper()
    return (
        {
            "title": title,
            "description": form.text("description") or None,
            "priceCents": cents,
            "category": form.text("category") or None,
            "difficulty": difficulty if difficulty in DIFFICULTIES else None,
            "coverUrl": form.text("coverUrl") or None,
        },
        errors,
    )


async def new_course(visit: Visit) -> Response:
    """``/teach/courses/new``: the new-course form; POST creates the (unpublished) course."""
    visit.require_user()
    errors: dict[str, str] = {}
    if visit.request.method == "POST":
        variables, errors = course_variables(visit)
        variables["currency"] = (visit.form.text("currency") or "USD").upper()
        if not errors:
            try:
                data = await visit.call("teach-internal", CREATE_COURSE, variables)
            except CrossPluginError as exc:
                errors = refusal_errors(exc, COURSE_FIELDS)
            else:
                return visit.redirect(edit_path(data["createCourse"]["id"]), notice="course-created")
    return visit.render(
        "teach_course.html",
        status=400 if errors else 200,
        course=None,
        values=visit.form.values() if errors else {"currency": "USD", "price": "0"},
        errors=errors,
        difficulties=DIFFICULTIES,
        lesson_types=LESSON_TYPES,
    )


async def _owned_course(visit: Visit, course_id: str) -> dict[str, Any] | None:
    course: dict[str, Any] | None = (await visit.call("teach-internal", EDIT_COURSE, {"id": course_id}))["course"]
    if course is None or course["teacherId"] != visit.session.principal.user_id:
        return None
    course["modules"] = sorted(course["modules"], key=lambda m: m["position"])
    for module in course["modules"]:
        module["lessons"] = sorted(module["lessons"], key=lambda lesson: lesson["position"])
    return course


def course_values(course: dict[str, Any]) -> dict[str, str]:
    """The course's current values, to fill its form."""
    cents = int(course["priceCents"])
    return {
        "title": course["title"],
        "description": course.get("description") or "",
        "price": f"{cents // 100}.{cents % 100:02d}",
        "currency": course["currency"],
        "category": course.get("category") or "",
        "difficulty": course.get("difficulty") or "",
        "coverUrl": course.get("coverUrl") or "",
    }


async def edit_course(visit: Visit) -> Response:
    """``/teach/courses/<id>``: edit the course, its modules and lessons; POST saves the course's fields."""
    visit.require_user()
    course_id = visit.request.path_params["course_id"]
    errors: dict[str, str] = {}
    if visit.request.method == "POST":
        variables, errors = course_variables(visit)
        if not errors:
            try:
                await visit.call("teach-internal", UPDATE_COURSE, {"id": course_id, **variables})
            except CrossPluginError as exc:
                errors = refusal_errors(exc, COURSE_FIELDS)
            else:
                return visit.redirect(edit_path(course_id, notice="saved"))
    course = await _owned_course(visit, course_id)
    if course is None:
        return visit.site.problem(visit, 404, "not-found")
    return visit.render(
        "teach_course.html",
        status=400 if errors else 200,
        course=course,
        values=visit.form.values() if errors else course_values(course),
        errors=errors,
        difficulties=DIFFICULTIES,
        lesson_types=LESSON_TYPES,
    )


async def publish_course(visit: Visit) -> Response:
    """POST ``/teach/courses/<id>/publish``: publish (``published=true``) or unpublish the course."""
    visit.require_user()
    course_id = visit.request.path_params["course_id"]
    published = visit.form.get("published") == "true"
    await visit.call("teach-internal", PUBLISH_COURSE, {"id": course_id, "published": published})
    return visit.redirect(edit_path(course_id, notice="published" if published else "unpublished"))


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
    course = await _owned_course(visit, course_id)
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
    course = await _owned_course(visit, course_id)
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
    course = await _owned_course(visit, course_id) if course_id else None
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
