"""Permission table: every teach-internal mutation and sensitive query, as every kind of caller.

Callers: anonymous, a student (enrolled in the course under test), another student, a teacher whose
profile is not verified, a verified teacher who does not own the course, the owner, an admin and a
service (ecommerce). Each cell is the exact outcome: ``OK``, an error code, or what was visible.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest

from byway.testing import WHO, error_codes

if TYPE_CHECKING:
    from conftest import World

pytestmark = pytest.mark.asyncio(loop_scope="module")

TI = "teach-internal"
UNAUTH, FORBID = "UNAUTHENTICATED", "FORBIDDEN"


def outcome(body: dict[str, Any]) -> str | None:
    """The error code of a refused operation, else None."""
    codes = error_codes(body)
    return codes[0] if codes else None


async def title_of(world: World, course_id: str) -> str | None:
    data = await world.ok(TI, "query($id: ID!) { course(id: $id) { title } }", {"id": course_id}, as_="service")
    return data["course"]["title"] if data["course"] else None


async def create_course(world: World, who: str) -> str:
    body = await world.gql(TI, 'mutation { createCourse(title: "Mine", priceCents: 100) { teacherId } }', as_=who)
    if (code := outcome(body)) is not None:
        return code
    assert body["data"]["createCourse"]["teacherId"] == world.user_id(who)
    return "OK"


async def update_course(world: World, who: str) -> str:
    course = await world.create_course(title="Before")
    body = await world.gql(
        TI, 'mutation($id: ID!) { updateCourse(id: $id, title: "After") { title } }', {"id": course["id"]}, as_=who
    )
    if (code := outcome(body)) is not None:
        assert await title_of(world, course["id"]) == "Before"
        return code
    assert await title_of(world, course["id"]) == "After"
    return "OK"


async def publish_course(world: World, who: str) -> str:
    course = await world.create_course(published=False)
    body = await world.gql(
        TI, "mutation($id: ID!) { updateCourse(id: $id, published: true) { published } }", {"id": course["id"]}, as_=who
    )
    visible = (await world.ok(TI, "query($id: ID!) { course(id: $id) { id } }", {"id": course["id"]}))["course"]
    if (code := outcome(body)) is not None:
        assert visible is None
        return code
    assert visible == {"id": course["id"]}
    return "OK"


async def delete_course(world: World, who: str) -> str:
    course = await world.create_course(title="Doomed")
    body = await world.gql(TI, "mutation($id: ID!) { deleteCourse(id: $id) }", {"id": course["id"]}, as_=who)
    if (code := outcome(body)) is not None:
        assert await title_of(world, course["id"]) == "Doomed"
        return code
    assert body["data"]["deleteCourse"] is True and await title_of(world, course["id"]) is None
    return "OK"


async def create_module(world: World, who: str) -> str:
    course = await world.create_course()
    body = await world.gql(
        TI, 'mutation($c: ID!) { createModule(courseId: $c, title: "M") { courseId } }', {"c": course["id"]}, as_=who
    )
    modules = (await world.ok(TI, "query($id: ID!) { course(id: $id) { modules { id } } }", {"id": course["id"]}))[
        "course"
    ]["modules"]
    if (code := outcome(body)) is not None:
        assert modules == []
        return code
    assert len(modules) == 1
    return "OK"


async def create_lesson(world: World, who: str) -> str:
    course = await world.create_course()
    module = await world.create_module(course["id"])
    body = await world.gql(
        TI, 'mutation($m: ID!) { createLesson(moduleId: $m, title: "L") { moduleId } }', {"m": module["id"]}, as_=who
    )
    query = "query($id: ID!) { course(id: $id) { modules { lessons { id } } } }"
    lessons = (await world.ok(TI, query, {"id": course["id"]}))["course"]["modules"][0]["lessons"]
    if (code := outcome(body)) is not None:
        assert lessons == []
        return code
    assert len(lessons) == 1
    return "OK"


async def unpublished_course(world: World, who: str) -> str:
    course = await world.create_course(published=False)
    data = await world.ok(TI, "query($id: ID!) { course(id: $id) { id published } }", {"id": course["id"]}, as_=who)
    return "VISIBLE" if data["course"] == {"id": course["id"], "published": False} else "NULL"


async def unpublished_by_ids(world: World, who: str) -> str:
    course = await world.create_course(published=False)
    data = await world.ok(TI, "query($i: [ID!]!) { coursesByIds(ids: $i) { id } }", {"i": [course["id"]]}, as_=who)
    return "VISIBLE" if data["coursesByIds"] == [{"id": course["id"]}] else "NULL"


async def catalogue_lists_draft(world: World, who: str) -> str:
    course = await world.create_course(published=False)
    data = await world.ok(TI, "{ courses(first: 100) { id } }", as_=who)
    return "LISTED" if course["id"] in {c["id"] for c in data["courses"]} else "ABSENT"


async def lesson_content(world: World, who: str) -> str:
    ids = await world.course_with_lessons(price=4900)
    await world.enroll("student", ids["course"])
    query = "query($id: ID!) { course(id: $id) { modules { lessons { id content } } } }"
    data = await world.ok(TI, query, {"id": ids["course"]}, as_=who)
    contents = {lesson["id"]: lesson["content"] for lesson in data["course"]["modules"][0]["lessons"]}
    assert contents[ids["preview"]] == "free sample"  # previews are for everyone
    return {"secret": "VISIBLE", None: "HIDDEN"}[contents[ids["gated"]]]


async def is_enrolled(world: World, who: str) -> str:
    course = await world.create_course(price=4900)
    await world.enroll("student", course["id"])
    data = await world.ok(TI, "query($id: ID!) { course(id: $id) { isEnrolled } }", {"id": course["id"]}, as_=who)
    return str(data["course"]["isEnrolled"]).upper()


async def teaching_courses(world: World, who: str) -> str:
    body = await world.gql(TI, "{ teachingCourses { teacherId } }", as_=who)
    if (code := outcome(body)) is not None:
        return code
    assert {c["teacherId"] for c in body["data"]["teachingCourses"]} <= {world.user_id(who)}
    return "OK"


Check = Callable[["World", str], Awaitable[str]]

#: operation -> (check, outcome for each caller in WHO order)
TABLE: dict[str, tuple[Check, list[str]]] = {
    "createCourse": (create_course, [UNAUTH, FORBID, FORBID, FORBID, "OK", "OK", FORBID, FORBID]),
    "updateCourse": (update_course, [UNAUTH, FORBID, FORBID, FORBID, FORBID, "OK", FORBID, FORBID]),
    "updateCourse(published)": (publish_course, [UNAUTH, FORBID, FORBID, FORBID, FORBID, "OK", FORBID, FORBID]),
    "deleteCourse": (delete_course, [UNAUTH, FORBID, FORBID, FORBID, FORBID, "OK", "OK", FORBID]),
    "createModule": (create_module, [UNAUTH, FORBID, FORBID, FORBID, FORBID, "OK", FORBID, FORBID]),
    "createLesson": (create_lesson, [UNAUTH, FORBID, FORBID, FORBID, FORBID, "OK", FORBID, FORBID]),
    "course(unpublished)": (unpublished_course, ["NULL"] * 5 + ["VISIBLE"] * 3),
    "coursesByIds(unpublished)": (unpublished_by_ids, ["NULL"] * 5 + ["VISIBLE"] * 3),
    "courses(unpublished)": (catalogue_lists_draft, ["ABSENT"] * 8),
    "Lesson.content": (lesson_content, ["HIDDEN", "VISIBLE", "HIDDEN", "HIDDEN", "HIDDEN"] + ["VISIBLE"] * 3),
    "Course.isEnrolled": (is_enrolled, ["FALSE", "TRUE"] + ["FALSE"] * 6),
    "teachingCourses": (teaching_courses, [UNAUTH] + ["OK"] * 6 + [FORBID]),
}

CASES = [
    pytest.param(check, who, expected, id=f"{operation}-{who}")
    for operation, (check, row) in TABLE.items()
    for who, expected in zip(WHO, row, strict=True)
]


@pytest.mark.parametrize(("check", "who", "expected"), CASES)
async def test_permission(shared_world: World, check: Check, who: str, expected: str) -> None:
    assert await check(shared_world, who) == expected
