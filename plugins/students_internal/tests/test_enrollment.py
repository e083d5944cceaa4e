"""Enrolling (enrollMe, enrollStudent), revoking, and asking who is enrolled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from byway_students_internal.models import enrollments, students
from sqlalchemy import func, select

from byway.testing import FailingTransport

if TYPE_CHECKING:
    from conftest import World, WorldFactory

    from byway.testing import FakeAuthentication

SI = "students-internal"
TI = "teach-internal"
ENROLL_ME = "mutation($c: ID!) { enrollMe(courseId: $c) { id studentId courseId enrolledAt } }"
ENROLL_STUDENT = "mutation($s: ID!, $c: ID!) { enrollStudent(studentId: $s, courseId: $c) { id studentId courseId } }"
STATUS = "query($ids: [ID!]!, $s: ID) { enrollmentStatus(courseIds: $ids, studentId: $s) { courseId enrolled } }"
MY_COURSES = "query($s: ID) { myCourses(studentId: $s) { id courseId } }"
ENROLLED_IDS = "query($n: Int!, $s: ID) { enrolledCourseIds(first: $n, studentId: $s) }"


async def row_counts(world: World) -> tuple[int, int]:
    """(students, enrollments) rows in students-internal's database."""
    async with world.app.host.plugins[SI].sessions() as session:
        n_students = await session.scalar(select(func.count()).select_from(students))
        n_enrollments = await session.scalar(select(func.count()).select_from(enrollments))
    return int(n_students or 0), int(n_enrollments or 0)


async def test_enroll_me_creates_the_student_once_and_is_idempotent(world: World) -> None:
    course = await world.course()
    assert (await world.ok(SI, "{ myStudent { id } }", as_="student"))["myStudent"] is None
    with world.app.host.observe_calls() as calls:
        first = (await world.ok(SI, ENROLL_ME, {"c": course}, as_="student"))["enrollMe"]
    assert [(c.target, c.operation, c.as_kind) for c in calls] == [(TI, "Course", "user")]
    again = (await world.ok(SI, ENROLL_ME, {"c": course}, as_="student"))["enrollMe"]
    assert again == first and first["courseId"] == course
    me = (await world.ok(SI, "{ myStudent { id userId displayName } }", as_="student"))["myStudent"]
    assert me == {"id": first["studentId"], "userId": world.user_id("student"), "displayName": None}
    assert (await world.ok(SI, "query($c: ID!) { isEnrolledMe(courseId: $c) }", {"c": course}, as_="student")) == {
        "isEnrolledMe": True
    }
    assert (await world.ok(SI, MY_COURSES, as_="student"))["myCourses"] == [{"id": first["id"], "courseId": course}]
    assert await row_counts(world) == (1, 1)


async def test_enroll_me_refuses_paid_unknown_and_unpublished_courses(world: World) -> None:
    paid = await world.course(price=4900, title="Paid")
    draft = await world.course(published=False)
    error = await world.refused(SI, ENROLL_ME, {"c": paid}, as_="student")
    assert error["code"] == "FORBIDDEN" and "Paid" in error["message"]
    assert (await world.refused(SI, ENROLL_ME, {"c": "no-such-course"}, as_="student"))["code"] == "NOT_FOUND"
    assert (await world.refused(SI, ENROLL_ME, {"c": draft}, as_="student"))["code"] == "NOT_FOUND"
    # the owner can see the draft, but nobody enrolls in an unpublished course; admins use enrollStudent
    assert (await world.refused(SI, ENROLL_ME, {"c": draft}, as_="owner"))["code"] == "NOT_FOUND"
    assert (await world.refused(SI, ENROLL_ME, {"c": paid}, as_="admin"))["code"] == "FORBIDDEN"
    assert await row_counts(world) == (0, 0)  # no student row is left behind by a refusal


async def test_enroll_me_when_teach_internal_is_down_writes_nothing(world: World) -> None:
    course = await world.course()
    host = world.app.host
    with host.override_transport(TI, FailingTransport(host.transport_for(TI))):
        assert (await world.refused(SI, ENROLL_ME, {"c": course}, as_="student"))["code"] == "UPSTREAM_UNAVAILABLE"
    assert await row_counts(world) == (0, 0)


async def test_enroll_student_accepts_paid_and_unpublished_courses(world: World) -> None:
    paid = await world.course(price=4900)
    draft = await world.course(published=False)
    student = await world.student_id("student")
    with world.app.host.observe_calls() as calls:
        first = (await world.ok(SI, ENROLL_STUDENT, {"s": student, "c": paid}, as_="service"))["enrollStudent"]
    assert [(c.target, c.operation, c.as_kind) for c in calls] == [(TI, "Course", "service")]
    again = (await world.ok(SI, ENROLL_STUDENT, {"s": student, "c": paid}, as_="admin"))["enrollStudent"]
    assert again == first == {"id": first["id"], "studentId": student, "courseId": paid}
    await world.ok(SI, ENROLL_STUDENT, {"s": student, "c": draft}, as_="service")
    assert await row_counts(world) == (1, 2)


async def test_enroll_student_needs_an_existing_student_and_course(world: World) -> None:
    course = await world.course()
    student = await world.student_id("student")
    with world.app.host.observe_calls() as calls:
        error = await world.refused(SI, ENROLL_STUDENT, {"s": "nobody", "c": course}, as_="service")
    assert error["code"] == "NOT_FOUND" and calls == []  # no need to ask teach-internal
    error = await world.refused(SI, ENROLL_STUDENT, {"s": student, "c": "no-such-course"}, as_="service")
    assert error["code"] == "NOT_FOUND"
    assert await row_counts(world) == (1, 0)


async def test_enrollment_status_answers_in_order_for_many_courses(world: World) -> None:
    a, b, c = [await world.course(title=t) for t in "abc"]
    await world.enroll("student", a)
    await world.enroll("student", c)
    ids = [c, "unknown", b, a, c]
    expected = [
        {"courseId": c, "enrolled": True},
        {"courseId": "unknown", "enrolled": False},
        {"courseId": b, "enrolled": False},
        {"courseId": a, "enrolled": True},
        {"courseId": c, "enrolled": True},
    ]
    assert (await world.ok(SI, STATUS, {"ids": ids}, as_="student"))["enrollmentStatus"] == expected
    student = await world.student_id("student")
    assert (await world.ok(SI, STATUS, {"ids": ids, "s": student}, as_="service"))["enrollmentStatus"] == expected
    # a user without a student yet is enrolled in nothing
    data = await world.ok(SI, STATUS, {"ids": [a, b]}, as_="other_student")
    assert [s["enrolled"] for s in data["enrollmentStatus"]] == [False, False]
    assert (await world.ok(SI, STATUS, {"ids": []}, as_="student"))["enrollmentStatus"] == []
    is_enrolled = "query($s: ID!, $c: ID!) { isEnrolled(studentId: $s, courseId: $c) }"
    assert (await world.ok(SI, is_enrolled, {"s": student, "c": a}, as_="service"))["isEnrolled"] is True
    assert (await world.ok(SI, is_enrolled, {"s": student, "c": b}, as_="student"))["isEnrolled"] is False


async def test_enrolled_course_ids_answers_at_most_first_in_id_order(world: World) -> None:
    courses = [await world.course(title=t) for t in "abcd"]
    for course in courses[:3]:
        await world.enroll("student", course)
    await world.enroll("other_student", courses[3])
    mine = sorted(courses[:3])
    assert (await world.ok(SI, ENROLLED_IDS, {"n": 500}, as_="student"))["enrolledCourseIds"] == mine
    assert (await world.ok(SI, ENROLLED_IDS, {"n": 3}, as_="student"))["enrolledCourseIds"] == mine
    assert (await world.ok(SI, ENROLLED_IDS, {"n": 2}, as_="student"))["enrolledCourseIds"] == mine[:2]
    assert (await world.ok(SI, "{ enrolledCourseIds }", as_="student"))["enrolledCourseIds"] == mine  # first: 100
    student = await world.student_id("student")
    data = await world.ok(SI, ENROLLED_IDS, {"n": 1, "s": student}, as_="service")
    assert data["enrolledCourseIds"] == mine[:1]
    # a user without a student yet is enrolled in nothing
    assert (await world.ok(SI, ENROLLED_IDS, {"n": 5}, as_="owner"))["enrolledCourseIds"] == []


async def test_enrolled_course_ids_input_rules(world: World) -> None:
    for first in (0, -1, 501):
        error = await world.refused(SI, ENROLLED_IDS, {"n": first}, as_="student")
        assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "first")
    error = await world.refused(SI, ENROLLED_IDS, {"n": 501, "s": await world.student_id("student")}, as_="admin")
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "first")
    # a service has no "me": it must name the student
    error = await world.refused(SI, ENROLLED_IDS, {"n": 5}, as_="service")
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "studentId")


async def test_enrollment_status_input_rules(world: World) -> None:
    error = await world.refused(SI, STATUS, {"ids": ["x"] * 501}, as_="student")
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "courseIds")
    assert len((await world.ok(SI, STATUS, {"ids": ["x"] * 500}, as_="student"))["enrollmentStatus"]) == 500
    # a service has no "me": it must name the student
    error = await world.refused(SI, STATUS, {"ids": ["x"]}, as_="service")
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "studentId")
    assert (await world.refused(SI, STATUS, {"ids": ["x"], "s": "nobody"}, as_="service"))["code"] == "NOT_FOUND"
    # a user asking about an unknown student learns nothing about which ids exist
    assert (await world.refused(SI, STATUS, {"ids": ["x"], "s": "nobody"}, as_="student"))["code"] == "FORBIDDEN"
    assert (await world.refused(SI, MY_COURSES, {}, as_="service"))["field"] == "studentId"


async def test_students_by_ids_answers_in_order_with_null_for_unknown_ids(world: World) -> None:
    query = "query($ids: [ID!]!) { studentsByIds(ids: $ids) { id userId } }"
    mine, other = await world.student_id("student"), await world.student_id("other_student")
    data = await world.ok(SI, query, {"ids": [other, "unknown", mine, other, "x" * 100]}, as_="service")
    assert data["studentsByIds"] == [
        {"id": other, "userId": world.user_id("other_student")},
        None,
        {"id": mine, "userId": world.user_id("student")},
        {"id": other, "userId": world.user_id("other_student")},
        None,
    ]
    assert (await world.ok(SI, query, {"ids": []}, as_="admin"))["studentsByIds"] == []
    assert len((await world.ok(SI, query, {"ids": ["x"] * 500}, as_="service"))["studentsByIds"]) == 500
    error = await world.refused(SI, query, {"ids": ["x"] * 501}, as_="service")
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "ids")


async def test_my_courses_lists_enrollments_oldest_first(world: World) -> None:
    first, second = await world.course(title="1"), await world.course(title="2")
    e1 = await world.enroll("student", first)
    e2 = await world.enroll("student", second)
    expected = [{"id": e1["id"], "courseId": first}, {"id": e2["id"], "courseId": second}]
    assert (await world.ok(SI, MY_COURSES, as_="student"))["myCourses"] == expected
    assert (await world.ok(SI, MY_COURSES, {"s": e1["studentId"]}, as_="admin"))["myCourses"] == expected
    assert (await world.ok(SI, MY_COURSES, as_="other_student"))["myCourses"] == []
    assert (await world.refused(SI, MY_COURSES, {"s": e1["studentId"]}, as_="other_student"))["code"] == "FORBIDDEN"


async def test_revoke_and_count(world: World) -> None:
    course = await world.course(price=100)
    enrollment = await world.enroll("student", course)
    await world.enroll("other_student", course)
    count = "query($c: ID!) { courseEnrollmentCount(courseId: $c) }"
    revoke = "mutation($s: ID!, $c: ID!) { revokeEnrollment(studentId: $s, courseId: $c) }"
    assert (await world.ok(SI, count, {"c": course}, as_="service"))["courseEnrollmentCount"] == 2
    variables = {"s": enrollment["studentId"], "c": course}
    assert (await world.ok(SI, revoke, variables, as_="service"))["revokeEnrollment"] is True
    assert (await world.ok(SI, revoke, variables, as_="service"))["revokeEnrollment"] is False
    assert (await world.ok(SI, count, {"c": course}, as_="admin"))["courseEnrollmentCount"] == 1
    assert (await world.ok(SI, count, {"c": "other"}, as_="admin"))["courseEnrollmentCount"] == 0
    # enrolling again after a revoke makes a new row
    again = await world.enroll("student", course)
    assert again["id"] != enrollment["id"]


async def test_register_student_is_idempotent_and_validated(world: World) -> None:
    register = (
        "mutation($u: ID!, $n: String) { registerStudent(userId: $u, displayName: $n) { id userId displayName } }"
    )
    me = world.user_id("student")
    first = (await world.ok(SI, register, {"u": me, "n": "  Ada  "}, as_="student"))["registerStudent"]
    assert (first["userId"], first["displayName"]) == (me, "Ada")
    again = (await world.ok(SI, register, {"u": me, "n": "Someone else"}, as_="service"))["registerStudent"]
    assert again == first  # the existing row, unchanged
    error = await world.refused(SI, register, {"u": "u-new", "n": "x" * 201}, as_="service")
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "displayName")
    error = await world.refused(SI, register, {"u": "  "}, as_="admin")
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "userId")
    error = await world.refused(SI, register, {"u": "u" * 65}, as_="service")
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "userId")
    assert await row_counts(world) == (1, 0)
    student = "query($id: ID!) { student(id: $id) { id userId } }"
    assert (await world.ok(SI, student, {"id": first["id"]}, as_="student"))["student"]["userId"] == me
    assert (await world.ok(SI, student, {"id": "nobody"}, as_="service"))["student"] is None


async def test_register_student_checks_the_user_with_authentication(
    open_world: WorldFactory, fake_authentication: FakeAuthentication
) -> None:
    register = "mutation($u: ID!) { registerStudent(userId: $u) { userId } }"
    async with open_world(fake_authentication) as world:
        with world.app.host.observe_calls() as calls:
            assert (await world.refused(SI, register, {"u": "u-ghost"}, as_="service"))["code"] == "NOT_FOUND"
            await world.ok(SI, register, {"u": world.user_id("other_student")}, as_="admin")
        assert [(c.target, c.operation, c.as_kind) for c in calls] == [("authentication", "User", "service")] * 2
        # a user registering themself proves who they are with the token: no call
        with world.app.host.observe_calls() as calls:
            await world.ok(SI, register, {"u": world.user_id("student")}, as_="student")
        assert calls == []
        assert await row_counts(world) == (2, 0)
