"""Lesson progress, completion and certificates, with the real teach-internal."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest
from byway_students_internal.models import certificates, lesson_progress
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from byway.db import new_id, utcnow
from byway.settings import Settings

if TYPE_CHECKING:
    from conftest import World, WorldFactory

    from byway.testing import FakeAuthentication

SI = "students-internal"
TI = "teach-internal"
UPDATE = (
    "mutation($l: ID!, $c: Boolean!) { updateProgress(lessonId: $l, completed: $c) { id lessonId courseId completed } }"
)
MY_COURSES = "{ myCourses { courseId progress completed completedAt course { id title coverUrl lessonCount } } }"
CERTIFICATE = "query($c: ID!) { certificate(courseId: $c) { id code courseId courseTitle studentName issuedAt url } }"


async def rows(world: World, table: Any) -> int:
    async with world.app.host.plugins[SI].sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_progress_rises_to_completion_and_issues_one_certificate(world: World) -> None:
    course = await world.course(title="Algebra")
    lessons = await world.lessons(course, 4)
    await world.enroll("student", course)
    assert (await world.ok(SI, MY_COURSES, as_="student"))["myCourses"] == [
        {
            "courseId": course,
            "progress": 0,
            "completed": False,
            "completedAt": None,
            "course": {"id": course, "title": "Algebra", "coverUrl": None, "lessonCount": 4},
        }
    ]
    seen = []
    for lesson in lessons:
        done = (await world.ok(SI, UPDATE, {"l": lesson, "c": True}, as_="student"))["updateProgress"]
        assert done | {"id": None} == {"id": None, "lessonId": lesson, "courseId": course, "completed": True}
        seen.append((await world.ok(SI, MY_COURSES, as_="student"))["myCourses"][0]["progress"])
    assert seen == [25, 50, 75, 100]
    enrollment = (await world.ok(SI, MY_COURSES, as_="student"))["myCourses"][0]
    assert enrollment["completed"] is True and enrollment["completedAt"]
    certificate = (await world.ok(SI, CERTIFICATE, {"c": course}, as_="student"))["certificate"]
    assert certificate["courseTitle"] == "Algebra" and certificate["issuedAt"] == enrollment["completedAt"]
    assert len(certificate["code"]) >= 22 and certificate["url"].endswith(f"/certificates/{certificate['code']}")

    # idempotent: again changes nothing, and no second certificate is issued
    again = (await world.ok(SI, UPDATE, {"l": lessons[0], "c": True}, as_="student"))["updateProgress"]
    assert again["completed"] is True
    assert (await rows(world, lesson_progress), await rows(world, certificates)) == (4, 1)

    # a lesson added later lowers the percentage but keeps the first completion and the certificate
    (extra,) = await world.lessons(course, 1, module_title="Bonus")
    enrollment = (await world.ok(SI, MY_COURSES, as_="student"))["myCourses"][0]
    assert (enrollment["progress"], enrollment["completed"]) == (80, False)
    assert enrollment["completedAt"] == certificate["issuedAt"]
    assert (await world.ok(SI, CERTIFICATE, {"c": course}, as_="student"))["certificate"] == certificate
    await world.ok(SI, UPDATE, {"l": extra, "c": True}, as_="student")
    await world.ok(SI, UPDATE, {"l": lessons[1], "c": False}, as_="student")  # marking undone works too
    enrollment = (await world.ok(SI, MY_COURSES, as_="student"))["myCourses"][0]
    assert (enrollment["progress"], enrollment["completedAt"]) == (80, certificate["issuedAt"])
    progress = await world.ok(
        SI, "query($c: ID) { myProgress(courseId: $c) { lessonId completed } }", {"c": course}, as_="student"
    )
    assert {p["lessonId"]: p["completed"] for p in progress["myProgress"]} == {
        **{lesson: True for lesson in lessons},
        lessons[1]: False,
        extra: True,
    }
    assert (await world.ok(SI, "{ myProgress { id } }", as_="other_student"))["myProgress"] == []


async def test_who_may_record_progress(world: World) -> None:
    course = await world.course()
    (lesson,) = await world.lessons(course, 1)
    other_course = await world.course()
    await world.enroll("student", other_course)
    assert (await world.refused(SI, UPDATE, {"l": lesson, "c": True}, as_="student"))["code"] == "FORBIDDEN"
    assert (await world.refused(SI, UPDATE, {"l": lesson, "c": True}, as_="owner"))["code"] == "FORBIDDEN"
    assert (await world.refused(SI, UPDATE, {"l": lesson, "c": True}))["code"] == "UNAUTHENTICATED"
    assert (await world.refused(SI, UPDATE, {"l": lesson, "c": True}, as_="service"))["code"] == "FORBIDDEN"
    assert (await world.refused(SI, UPDATE, {"l": "no-such-lesson", "c": True}, as_="student"))["code"] == "NOT_FOUND"
    assert await rows(world, lesson_progress) == 0
    # the certificate of a course not completed (or not enrolled in) is null
    assert (await world.ok(SI, CERTIFICATE, {"c": course}, as_="student"))["certificate"] is None


async def test_one_row_per_student_and_lesson_is_the_databases_rule(
    open_world: WorldFactory, byway_settings: Settings, database_url: str
) -> None:
    async with open_world(settings=byway_settings.with_overrides(database_url=database_url)) as world:
        course = await world.course()
        lessons = await world.lessons(course, 2)
        await world.enroll("student", course)
        bodies = await asyncio.gather(
            *(world.gql(SI, UPDATE, {"l": lessons[n % 2], "c": True}, as_="student") for n in range(16))
        )
        assert all(not b.get("errors") for b in bodies), bodies
        assert len({b["data"]["updateProgress"]["id"] for b in bodies}) == 2
        assert (await rows(world, lesson_progress), await rows(world, certificates)) == (2, 1)
        student = await world.student_id("student")
        async with world.app.host.plugins[SI].sessions() as session:
            values = {"student_id": student, "lesson_id": lessons[0], "course_id": course}
            with pytest.raises(IntegrityError):
                await session.execute(
                    insert(lesson_progress).values(id=new_id(), completed=False, updated_at=utcnow(), **values)
                )


async def test_my_courses_is_one_call_to_teach_internal_whatever_the_enrollments(world: World) -> None:
    course_ids = [await world.course(title=f"C{n}") for n in range(5)]
    for course in course_ids:
        await world.lessons(course, 2)
        await world.enroll("student", course)
    with world.app.host.observe_calls() as calls:
        data = await world.ok(SI, MY_COURSES, as_="student")
    assert [(c.target, c.operation, c.as_kind) for c in calls] == [(TI, "CourseOutlines", "service")]
    assert [(e["course"]["title"], e["progress"]) for e in data["myCourses"]] == [(f"C{n}", 0) for n in range(5)]


async def completed_course(world: World, title: str = "Drawing <b>&</b> co") -> tuple[str, dict[str, Any]]:
    course = await world.course(title=title)
    (lesson,) = await world.lessons(course, 1)
    await world.enroll("student", course)
    await world.ok(SI, UPDATE, {"l": lesson, "c": True}, as_="student")
    certificate = (await world.ok(SI, CERTIFICATE, {"c": course}, as_="student"))["certificate"]
    return course, certificate


async def test_certificates_verify_publicly_as_json_or_html(
    open_world: WorldFactory, fake_authentication: FakeAuthentication
) -> None:
    async with open_world(fake_authentication) as world:
        _course, certificate = await completed_course(world)
        # no display name on the student: the name comes from authentication
        assert certificate["studentName"] == "Student Tester"
        client = world.app.client
        path = f"/api/students-internal/certificates/{certificate['code']}"
        response = await client.get(path)
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
        assert response.json() == {
            "valid": True,
            "courseTitle": "Drawing <b>&</b> co",
            "studentName": "Student Tester",
            "issuedAt": certificate["issuedAt"],
        }
        page = await client.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "Drawing &lt;b&gt;&amp;&lt;/b&gt; co" in page.text and "<b>" not in page.text
        assert "Student Tester" in page.text and "u-student@" not in page.text
        for unknown in ("x" * 22, "not a code", "%00", "a" * 500):
            response = await client.get(f"/api/students-internal/certificates/{unknown}")
            assert response.status_code == 404 and response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        page = await client.get("/api/students-internal/certificates/nope", headers={"Accept": "text/html"})
        assert page.status_code == 404 and "Unknown certificate" in page.text


async def test_certificate_codes_are_unguessable_and_unique(world: World) -> None:
    codes = set()
    for n in range(3):
        _course, certificate = await completed_course(world, f"Course {n}")
        codes.add(certificate["code"])
    assert len(codes) == 3 and all(len(code) == 22 for code in codes)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("student", "OK"),
        ("other_student", "FORBIDDEN"),
        ("owner", "FORBIDDEN"),
        ("admin", "OK"),
        ("service", "OK"),
    ],
)
async def test_student_by_user_id(world: World, who: str, expected: str) -> None:
    student = await world.student_id("student")
    query = "query($u: ID!) { studentByUserId(userId: $u) { id userId } }"
    body = await world.gql(SI, query, {"u": world.user_id("student")}, as_=who)
    if expected != "OK":
        assert body["errors"][0]["extensions"]["code"] == expected
        return
    assert body["data"]["studentByUserId"] == {"id": student, "userId": world.user_id("student")}
    if who != "student":
        unknown = await world.ok(SI, query, {"u": "nobody"}, as_=who)
        assert unknown == {"studentByUserId": None}


async def test_deleting_a_lesson_removes_its_progress_in_this_database(world: World) -> None:
    course = await world.course()
    lessons = await world.lessons(course, 3)
    await world.enroll("student", course)
    for lesson in lessons[:2]:
        await world.ok(SI, UPDATE, {"l": lesson, "c": True}, as_="student")
    assert await rows(world, lesson_progress) == 2
    await world.ok(TI, "mutation($id: ID!) { deleteLesson(id: $id) }", {"id": lessons[0]}, as_="owner")
    async with world.app.host.plugins[SI].sessions() as session:
        left = list((await session.execute(select(lesson_progress.c.lesson_id))).scalars())
    assert left == [lessons[1]]
    assert (await world.ok(SI, MY_COURSES, as_="student"))["myCourses"][0]["progress"] == 50
