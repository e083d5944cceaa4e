"""``students-internal``'s part of ``byway demo``: the demo student, part way through the free course.

The demo student is enrolled in the free course and has completed its first two lessons, so
``myCourses`` shows progress under 100 and the rest of the journey (finish, get the certificate)
is left to try.
"""

from __future__ import annotations

from typing import Any

import byway
from byway_students_internal import store

DEMO_DISPLAY_NAME = "Demo Student"
#: How many of the free course's lessons the demo student has completed.
DEMO_LESSONS_DONE = 2


async def seed(plugin: byway.PluginRuntime, facts: dict[str, Any]) -> list[str]:
    """Create the demo student (``facts['student_id']``), enrolled in the free course, part way through."""
    user_id = facts.get("student_user_id")
    if not user_id:
        return ["students-internal: no demo student user (facts['student_user_id'] is missing); nothing created"]
    free_course_id = facts.get("free_course_id")
    lesson_ids: list[str] = list(facts.get("free_course_lesson_ids") or [])
    async with plugin.sessions() as session:
        student, _created = await store.upsert_student(session, user_id, DEMO_DISPLAY_NAME)
        if free_course_id:
            # The course was just created by teach-internal's demo step (order 30) in this same run.
            await store.upsert_enrollment(session, student["id"], free_course_id)
            for lesson_id in lesson_ids[:DEMO_LESSONS_DONE]:
                await store.upsert_progress(session, student["id"], lesson_id, free_course_id, True)
        await session.commit()
    facts["student_id"] = student["id"]
    lines = [f"students-internal: student '{DEMO_DISPLAY_NAME}' id={student['id']} (user {user_id})"]
    if free_course_id:
        done = min(DEMO_LESSONS_DONE, len(lesson_ids))
        lines.append(
            f"students-internal: the demo student is enrolled in the free course {free_course_id} "
            f"and has completed {done} of its {len(lesson_ids)} lessons"
        )
    return lines


#: After teach-internal's step (30), which creates the free course.
DEMO_STEP = byway.DemoStep(order=40, run=seed)
