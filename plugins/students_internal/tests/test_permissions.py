"""Permission table: every students-internal mutation and sensitive query, as every kind of caller.

Callers: anonymous, the student the question is about, another student, a teacher whose profile
is not verified, a verified teacher who does not own the course, the course's owner, an admin and
a service (ecommerce). Each cell is the exact outcome: ``OK``, an error code, or an HTTP status.
Refusals are also checked to have changed nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest

from byway.testing import WHO, error_codes

if TYPE_CHECKING:
    from conftest import World

pytestmark = pytest.mark.asyncio(loop_scope="module")

SI = "students-internal"
UNAUTH, FORBID, NOT_FOUND, BAD = "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "BAD_USER_INPUT"
Check = Callable[["World", str], Awaitable[str]]


def outcome(body: dict[str, Any]) -> str | None:
    """The error code of a refused operation, else None."""
    codes = error_codes(body)
    return codes[0] if codes else None


async def enrolled(world: World, who: str, course_id: str) -> bool:
    """Whether a test user is enrolled (asked as a service)."""
    query = "query($ids: [ID!]!, $s: ID) { enrollmentStatus(courseIds: $ids, studentId: $s) { enrolled } }"
    student = await world.student_id(who)
    data = await world.ok(SI, query, {"ids": [course_id], "s": student}, as_="service")
    return bool(data["enrollmentStatus"][0]["enrolled"])


def enroll_me(kind: str) -> Check:
    """enrollMe on a free, paid, unknown or unpublished course."""

    async def check(world: World, who: str) -> str:
        if kind == "unknown":
            course = "no-such-course"
        else:
            course = await world.course(price=4900 if kind == "paid" else 0, published=kind != "unpublished")
        body = await world.gql(SI, "mutation($c: ID!) { enrollMe(courseId: $c) { courseId } }", {"c": course}, as_=who)
        if (code := outcome(body)) is not None:
            if who not in ("anonymous", "service"):
                assert not await enrolled(world, who, course)
            return code
        assert body["data"]["enrollMe"]["courseId"] == course and await enrolled(world, who, course)
        return "OK"

    return check


async def enroll_student(world: World, who: str) -> str:
    course = await world.course(price=4900)
    student = await world.student_id("student")
    body = await world.gql(
        SI,
        "mutation($s: ID!, $c: ID!) { enrollStudent(studentId: $s, courseId: $c) { studentId } }",
        {"s": student, "c": course},
        as_=who,
    )
    if (code := outcome(body)) is not None:
        assert not await enrolled(world, "student", course)
        return code
    assert await enrolled(world, "student", course)
    return "OK"


async def revoke_enrollment(world: World, who: str) -> str:
    course = await world.course(price=4900)
    enrollment = await world.enroll("student", course)
    body = await world.gql(
        SI,
        "mutation($s: ID!, $c: ID!) { revokeEnrollment(studentId: $s, courseId: $c) }",
        {"s": enrollment["studentId"], "c": course},
        as_=who,
    )
    if (code := outcome(body)) is not None:
        assert await enrolled(world, "student", course)
        return code
    assert body["data"]["revokeEnrollment"] is True and not await enrolled(world, "student", course)
    return "OK"


async def course_enrollment_count(world: World, who: str) -> str:
    course = await world.course()
    await world.enroll("student", course)
    body = await world.gql(SI, "query($c: ID!) { courseEnrollmentCount(courseId: $c) }", {"c": course}, as_=who)
    if (code := outcome(body)) is not None:
        return code
    assert body["data"]["courseEnrollmentCount"] == 1
    return "OK"


def about_the_student(
    query: str, check_data: Callable[[Any, str, str], None]
) -> Callable[[World, str], Awaitable[str]]:
    """A query naming the student (``$s``) and a course (``$c``) where the student is enrolled."""

    async def check(world: World, who: str) -> str:
        course = await world.course()
        enrollment = await world.enroll("student", course)
        variables = {"s": enrollment["studentId"], "c": course}
        body = await world.gql(SI, query, {k: v for k, v in variables.items() if f"${k}" in query}, as_=who)
        if (code := outcome(body)) is not None:
            return code
        check_data(body["data"], enrollment["studentId"], course)
        return "OK"

    return check


def _is_enrolled(data: Any, student: str, course: str) -> None:
    assert data["isEnrolled"] is True


def _status(data: Any, student: str, course: str) -> None:
    assert data["enrollmentStatus"] == [{"courseId": course, "enrolled": True}]


def _my_courses(data: Any, student: str, course: str) -> None:
    assert course in {e["courseId"] for e in data["myCourses"]}


def _enrolled_ids(data: Any, student: str, course: str) -> None:
    assert course in data["enrolledCourseIds"]


def _student(data: Any, student: str, course: str) -> None:
    assert data["student"] == {"id": student, "userId": "u-student"}


IS_ENROLLED = "query($s: ID!, $c: ID!) { isEnrolled(studentId: $s, courseId: $c) }"
STATUS = "query($s: ID, $c: ID!) { enrollmentStatus(courseIds: [$c], studentId: $s) { courseId enrolled } }"
MY_COURSES = "query($s: ID) { myCourses(studentId: $s) { courseId } }"
STUDENT = "query($s: ID!) { student(id: $s) { id userId } }"
ENROLLED_IDS = "query($s: ID) { enrolledCourseIds(studentId: $s) }"


async def students_by_ids(world: World, who: str) -> str:
    student = await world.student_id("student")
    query = "query($ids: [ID!]!) { studentsByIds(ids: $ids) { id userId } }"
    body = await world.gql(SI, query, {"ids": [student, "no-such-student"]}, as_=who)
    if (code := outcome(body)) is not None:
        return code
    assert body["data"]["studentsByIds"] == [{"id": student, "userId": "u-student"}, None]
    return "OK"


async def enrollment_status_me(world: World, who: str) -> str:
    course = await world.course()
    if who not in ("anonymous", "service"):
        await world.enroll(who, course)
    query = "query($c: ID!) { enrollmentStatus(courseIds: [$c]) { enrolled } }"
    body = await world.gql(SI, query, {"c": course}, as_=who)
    if (code := outcome(body)) is not None:
        return code
    assert body["data"]["enrollmentStatus"] == [{"enrolled": True}]
    return "OK"


async def enrolled_course_ids_me(world: World, who: str) -> str:
    course = await world.course()
    if who not in ("anonymous", "service"):
        await world.enroll(who, course)
    body = await world.gql(SI, "{ enrolledCourseIds }", as_=who)
    if (code := outcome(body)) is not None:
        return code
    assert course in body["data"]["enrolledCourseIds"]
    return "OK"


async def is_enrolled_me(world: World, who: str) -> str:
    course = await world.course()
    if who not in ("anonymous", "service"):
        await world.enroll(who, course)
    body = await world.gql(SI, "query($c: ID!) { isEnrolledMe(courseId: $c) }", {"c": course}, as_=who)
    if (code := outcome(body)) is not None:
        return code
    assert body["data"]["isEnrolledMe"] is True
    return "OK"


async def my_student(world: World, who: str) -> str:
    if who not in ("anonymous", "service"):
        await world.student_id(who)
    data = await world.ok(SI, "{ myStudent { userId } }", as_=who)
    if data["myStudent"] is None:
        return "NULL"
    assert data["myStudent"]["userId"] == world.user_id(who)
    return "OK"


async def register_student(world: World, who: str) -> str:
    """registerStudent for a new user, who plays "student" (the others try to register them)."""
    user_id = f"u-new-{uuid.uuid4().hex}"
    token = world.app.token(user_id) if who == "student" else world.token(who)
    body = await world.app.gql(
        SI, "mutation($u: ID!) { registerStudent(userId: $u) { userId } }", {"u": user_id}, token=token
    )
    if (code := outcome(body)) is not None:
        return code
    assert body["data"]["registerStudent"]["userId"] == user_id
    return "OK"


async def rest_register_student(world: World, who: str) -> str:
    """POST /students for the student's user id: the HTTP status."""
    token = world.token(who)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await world.app.client.post(
        "/api/students-internal/students", json={"userId": world.user_id("student")}, headers=headers
    )
    return {200: "OK", 201: "OK", 401: "401", 403: "403"}.get(response.status_code, str(response.status_code))


ABOUT_STUDENT = [UNAUTH, "OK", FORBID, FORBID, FORBID, FORBID, "OK", "OK"]
SERVICE_OR_ADMIN = [UNAUTH, FORBID, FORBID, FORBID, FORBID, FORBID, "OK", "OK"]

#: operation -> (check, outcome for each caller in WHO order)
TABLE: dict[str, tuple[Check, list[str]]] = {
    "enrollMe(free)": (enroll_me("free"), [UNAUTH] + ["OK"] * 6 + [FORBID]),
    "enrollMe(paid)": (enroll_me("paid"), [UNAUTH] + [FORBID] * 7),
    "enrollMe(unknown)": (enroll_me("unknown"), [UNAUTH] + [NOT_FOUND] * 6 + [FORBID]),
    "enrollMe(unpublished)": (enroll_me("unpublished"), [UNAUTH] + [NOT_FOUND] * 6 + [FORBID]),
    "enrollStudent": (enroll_student, SERVICE_OR_ADMIN),
    "revokeEnrollment": (revoke_enrollment, SERVICE_OR_ADMIN),
    "courseEnrollmentCount": (course_enrollment_count, SERVICE_OR_ADMIN),
    "isEnrolled": (about_the_student(IS_ENROLLED, _is_enrolled), ABOUT_STUDENT),
    "enrollmentStatus(studentId)": (about_the_student(STATUS, _status), ABOUT_STUDENT),
    "myCourses(studentId)": (about_the_student(MY_COURSES, _my_courses), ABOUT_STUDENT),
    "enrolledCourseIds(studentId)": (about_the_student(ENROLLED_IDS, _enrolled_ids), ABOUT_STUDENT),
    "student(id)": (about_the_student(STUDENT, _student), ABOUT_STUDENT),
    "studentsByIds": (students_by_ids, SERVICE_OR_ADMIN),
    "enrollmentStatus(me)": (enrollment_status_me, [UNAUTH] + ["OK"] * 6 + [BAD]),
    "enrolledCourseIds(me)": (enrolled_course_ids_me, [UNAUTH] + ["OK"] * 6 + [BAD]),
    "isEnrolledMe": (is_enrolled_me, [UNAUTH] + ["OK"] * 6 + [FORBID]),
    "myStudent": (my_student, ["NULL"] + ["OK"] * 6 + ["NULL"]),
    "registerStudent(student's user)": (register_student, ABOUT_STUDENT),
    "POST /students (student's user)": (rest_register_student, ["401", "OK", "403", "403", "403", "403", "OK", "OK"]),
}

CASES = [
    pytest.param(check, who, expected, id=f"{operation}-{who}")
    for operation, (check, row) in TABLE.items()
    for who, expected in zip(WHO, row, strict=True)
]


@pytest.mark.parametrize(("check", "who", "expected"), CASES)
async def test_permission(shared_world: World, check: Check, who: str, expected: str) -> None:
    assert await check(shared_world, who) == expected
