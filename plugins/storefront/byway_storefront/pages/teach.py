"""``/teach``: become a teacher, list, create, edit and publish courses (their outlines: ``outline.py``)."""

from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from byway import CrossPluginError
from byway_storefront.operations import (
    CREATE_COURSE,
    CREATE_TEACHER_PROFILE,
    EDIT_COURSE,
    MY_TEACHER_PROFILE,
    PUBLISH_COURSE,
    TEACHING_COURSES,
    UPDATE_COURSE,
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


async def owned_course(visit: Visit, course_id: str) -> dict[str, Any] | None:
    """The course with its outline in order, when the visitor teaches it (else None)."""
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
    course = await owned_course(visit, course_id)
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
