"""Who may act on which student, input validation, and the checks made with other plugins."""

from __future__ import annotations

from typing import Any

import byway
from byway_students_internal import store
from byway_students_internal.models import DISPLAY_NAME_MAX, FOREIGN_ID_LENGTH
from byway_students_internal.operations import COURSE, USER


async def student_for(
    session: byway.Readable, principal: byway.Principal, student_id: str, *, missing_ok: bool = False
) -> dict[str, Any] | None:
    """The student ``student_id`` if the caller may act on it: a service, an admin, or that student.

    Anonymous callers get UNAUTHENTICATED; other users FORBIDDEN whether or not the student exists
    (so ids cannot be probed). Services and admins get NOT_FOUND for an unknown id, or None with
    ``missing_ok``.
    """
    if principal.is_anonymous:
        raise byway.Unauthenticated("You must be logged in")
    student = await store.get_student(session, student_id)
    if principal.is_service or principal.is_admin:
        if student is None and not missing_ok:
            raise byway.NotFound(f"No student with id {student_id}")
        return student
    if student is None or student["userId"] != principal.user_id:
        raise byway.Forbidden("You may only see your own enrollments")
    return student


def own_user_id(principal: byway.Principal) -> str:
    """The caller's user id, for operations about "me" (a service must name the student)."""
    if principal.is_anonymous:
        raise byway.Unauthenticated("You must be logged in")
    if not principal.is_user or principal.user_id is None:
        raise byway.BadUserInput("A service must name the student (studentId)", field="studentId")
    return principal.user_id


def clean_user_id(value: str) -> str:
    """A user id: not blank, at most 64 characters."""
    user_id = value.strip()
    if not user_id:
        raise byway.BadUserInput("userId must not be empty", field="userId")
    if len(user_id) > FOREIGN_ID_LENGTH:
        raise byway.BadUserInput(f"userId must be at most {FOREIGN_ID_LENGTH} characters", field="userId")
    return user_id


def clean_display_name(value: Any) -> str | None:
    """An optional display name of at most 200 characters (blank means none)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise byway.BadUserInput("displayName must be a string", field="displayName")
    name = value.strip()
    if len(name) > DISPLAY_NAME_MAX:
        raise byway.BadUserInput(f"displayName must be at most {DISPLAY_NAME_MAX} characters", field="displayName")
    return name or None


async def authorize_registration(
    plugin: byway.PluginRuntime, principal: byway.Principal, user_id: Any, display_name: Any
) -> tuple[str, str | None]:
    """Check who may create the student of ``user_id`` and return the cleaned ``(user_id, display_name)``.

    A user may register only themself; a service or an admin anyone, and then (when the host knows
    ``authentication``) the user must exist there.
    """
    if principal.is_anonymous:
        raise byway.Unauthenticated("You must be logged in")
    if not isinstance(user_id, str):
        raise byway.BadUserInput("userId is required and must be a string", field="userId")
    user_id = clean_user_id(user_id)
    name = clean_display_name(display_name)
    if principal.is_user and not principal.is_admin and user_id != principal.user_id:
        raise byway.Forbidden("You may only register yourself as a student")
    if user_id != principal.user_id and plugin.knows("authentication"):
        try:
            data = await plugin.client.call("authentication", USER, {"id": user_id}, as_="service")
        except byway.CrossPluginError as exc:
            raise exc.for_caller("Could not check the user") from exc
        if not data.get("user"):
            raise byway.NotFound(f"No user with id {user_id}")
    return user_id, name


async def fetch_course(plugin: byway.PluginRuntime, course_id: str, as_: byway.CallAs) -> dict[str, Any] | None:
    """The teach-internal course as ``as_`` sees it (None when unknown or hidden from them)."""
    try:
        data = await plugin.client.call("teach-internal", COURSE, {"id": course_id}, as_=as_)
    except byway.CrossPluginError as exc:
        raise exc.for_caller("Could not check the course") from exc
    course: dict[str, Any] | None = data.get("course")
    return course
