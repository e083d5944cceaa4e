"""teach-internal's demo step (and students-internal's after it): idempotent, published, gated content."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from byway_students_internal import demo as students_demo
from byway_teach_internal import demo

if TYPE_CHECKING:
    from conftest import World

TI = "teach-internal"
QUERY = """
query($ids: [ID!]!) {
  coursesByIds(ids: $ids) {
    id teacherId title priceCents currency published isEnrolled category difficulty coverUrl
    modules { lessons { preview content type duration videoUrl } }
  }
}
"""


async def test_demo_creates_a_free_and_a_paid_course_once(world: World) -> None:
    runtime = world.app.host.plugins[TI]
    facts: dict[str, Any] = {"teacher_user_id": world.user_id("owner"), "student_user_id": world.user_id("student")}
    lines = await demo.seed(runtime, facts)
    free, paid = facts["free_course_id"], facts["paid_course_id"]
    assert len(lines) == 3 and free in lines[0] and paid in lines[1] and "49.00 USD" in lines[1]
    assert len(facts["free_course_lesson_ids"]) == 5
    again: dict[str, Any] = {"teacher_user_id": world.user_id("owner")}
    await demo.seed(runtime, again)
    assert (again["free_course_id"], again["paid_course_id"]) == (free, paid)
    assert len((await world.ok(TI, "{ teachingCourses { id } }", as_="owner"))["teachingCourses"]) == 3
    categories = (await world.ok(TI, "{ categories { name courseCount } }"))["categories"]
    assert categories == [{"name": "Design", "courseCount": 1}, {"name": "Programming", "courseCount": 2}]

    await students_demo.seed(world.app.host.plugins["students-internal"], facts)
    data = await world.ok(TI, QUERY, {"ids": [free, paid]}, as_="student")
    courses = data["coursesByIds"]
    assert [(c["priceCents"], c["currency"], c["published"]) for c in courses] == [
        (0, "USD", True),
        (4900, "USD", True),
    ]
    assert all(c["teacherId"] == world.user_id("owner") for c in courses)
    assert [(c["category"], c["difficulty"]) for c in courses] == [
        ("Programming", "BEGINNER"),
        ("Programming", "ADVANCED"),
    ]
    assert all(c["coverUrl"].startswith("https://") for c in courses)
    assert [c["isEnrolled"] for c in courses] == [True, False]
    for course in courses:
        assert len(course["modules"]) == 2
        lessons = [lesson for module in course["modules"] for lesson in module["lessons"]]
        assert 4 <= len(lessons) and all(2 <= len(m["lessons"]) <= 3 for m in course["modules"])
        assert [lesson["preview"] for lesson in lessons].count(True) == 1
        assert {lesson["type"] for lesson in lessons} == {"TEXT", "VIDEO", "QUIZ"}
        assert all(lesson["duration"] > 0 for lesson in lessons)
        hidden = [lesson for lesson in lessons if lesson["content"] is None]
        # the enrolled student reads the free course; only the preview of the paid one
        assert len(hidden) == (0 if course["priceCents"] == 0 else len(lessons) - 1)


async def test_demo_without_a_teacher_creates_nothing(world: World) -> None:
    facts: dict[str, Any] = {}
    lines = await demo.seed(world.app.host.plugins[TI], facts)
    assert "missing" in lines[0] and "free_course_id" not in facts
    assert (await world.ok(TI, "{ courses { id } }"))["courses"] == []
