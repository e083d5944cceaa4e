"""students-internal's demo step: the demo student, enrolled in the free course when there is one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from byway_students_internal import demo

if TYPE_CHECKING:
    from conftest import World

SI = "students-internal"


async def test_demo_student_is_created_once_and_enrolled_in_the_free_course(world: World) -> None:
    runtime = world.app.host.plugins[SI]
    course = await world.course()
    facts: dict[str, Any] = {"student_user_id": world.user_id("student"), "free_course_id": course}
    lines = await demo.seed(runtime, facts)
    assert facts["student_id"] in lines[0] and course in lines[1]
    again = dict(facts)
    await demo.seed(runtime, again)
    assert again["student_id"] == facts["student_id"]
    data = await world.ok(SI, "{ myStudent { id displayName } myCourses { courseId } }", as_="student")
    assert data["myStudent"] == {"id": facts["student_id"], "displayName": "Demo Student"}
    assert data["myCourses"] == [{"courseId": course}]


async def test_the_demo_student_is_part_way_through_the_free_course(world: World) -> None:
    course = await world.course()
    lessons = await world.lessons(course, 4)
    facts: dict[str, Any] = {
        "student_user_id": world.user_id("student"),
        "free_course_id": course,
        "free_course_lesson_ids": lessons,
    }
    lines = await demo.seed(world.app.host.plugins[SI], facts)
    assert "completed 2 of its 4 lessons" in lines[1]
    await demo.seed(world.app.host.plugins[SI], facts)  # idempotent
    data = await world.ok(SI, "{ myCourses { progress completed } myProgress { lessonId completed } }", as_="student")
    assert data["myCourses"] == [{"progress": 50, "completed": False}]
    assert data["myProgress"] == [{"lessonId": lesson, "completed": True} for lesson in lessons[:2]]


async def test_demo_without_a_free_course_only_creates_the_student(world: World) -> None:
    facts: dict[str, Any] = {"student_user_id": world.user_id("student")}
    lines = await demo.seed(world.app.host.plugins[SI], facts)
    assert len(lines) == 1 and facts["student_id"]
    assert (await world.ok(SI, "{ myCourses { courseId } }", as_="student"))["myCourses"] == []


async def test_demo_without_a_student_user_creates_nothing(world: World) -> None:
    facts: dict[str, Any] = {}
    lines = await demo.seed(world.app.host.plugins[SI], facts)
    assert "missing" in lines[0] and "student_id" not in facts
