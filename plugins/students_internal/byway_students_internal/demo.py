"""``students-internal``'s part of ``byway demo``: the demo student, enrolled in the free course."""

from __future__ import annotations

from typing import Any

from byway.runtime import PluginRuntime
from byway_students_internal import store

DEMO_DISPLAY_NAME = "Demo Student"


async def seed(plugin: PluginRuntime, facts: dict[str, Any]) -> list[str]:
    """Create the demo student (``facts['student_id']``) and enroll it in ``facts['free_course_id']``."""
    user_id = facts.get("student_user_id")
    if not user_id:
        return ["students-internal: no demo student user (facts['student_user_id'] is missing); nothing created"]
    free_course_id = facts.get("free_course_id")
    async with plugin.sessions() as session:
        student, _created = await store.upsert_student(session, user_id, DEMO_DISPLAY_NAME)
        if free_course_id:
            # The course was just created by teach-internal's demo step (order 30) in this same run.
            await store.upsert_enrollment(session, student["id"], free_course_id)
        await session.commit()
    facts["student_id"] = student["id"]
    lines = [f"students-internal: student '{DEMO_DISPLAY_NAME}' id={student['id']} (user {user_id})"]
    if free_course_id:
        lines.append(f"students-internal: the demo student is enrolled in the free course {free_course_id}")
    return lines
