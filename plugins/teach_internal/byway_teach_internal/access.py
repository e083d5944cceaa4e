"""Who may see and change what in ``teach-internal``, and the teacher check made with ``teach``."""

from __future__ import annotations

from typing import Any

import byway
from byway_teach_internal.operations import MY_TEACHER_PROFILE

Record = dict[str, Any]


def is_owner(principal: byway.Principal, teacher_id: str) -> bool:
    """True when the caller is the user who owns the course."""
    return principal.is_user and principal.user_id == teacher_id


def sees_everything(principal: byway.Principal, teacher_id: str) -> bool:
    """Owner, admin or service: sees unpublished courses and every lesson's content and video."""
    return principal.is_service or principal.is_admin or is_owner(principal, teacher_id)


def visible(principal: byway.Principal, course: Record | None) -> Record | None:
    """The course if the caller may see it, else None."""
    if course is None:
        return None
    return course if course["published"] or sees_everything(principal, course["teacherId"]) else None


def require_owner(principal: byway.Principal, teacher_id: str, what: str) -> None:
    """Refuse everyone but the course's owner."""
    if not is_owner(principal, teacher_id):
        raise byway.Forbidden(f"Only the course's teacher may {what}")


def require_owner_or_admin(principal: byway.Principal, teacher_id: str, what: str) -> None:
    """Refuse everyone but the course's owner and admins (deletes)."""
    if not (principal.is_admin or is_owner(principal, teacher_id)):
        raise byway.Forbidden(f"Only the course's teacher or an admin may {what}")


async def require_verified_teacher(ctx: byway.RequestContext) -> None:
    """Ask ``teach`` (with the caller's token) for the caller's profile: it must exist and be verified."""
    try:
        data = await ctx.client.call("teach", MY_TEACHER_PROFILE, as_=ctx.principal)
    except byway.CrossPluginError as exc:
        raise exc.for_caller("Could not check your teacher profile") from exc
    profile = data.get("myTeacherProfile")
    if not profile or profile.get("userId") != ctx.principal.user_id:
        raise byway.Forbidden("You need a teacher profile to create courses")
    if not profile.get("verified"):
        raise byway.Forbidden("Your teacher profile is not verified yet")
