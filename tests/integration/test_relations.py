"""End-to-end tests of relations 1, 2, 3 and 6 (numbered as in docs/relations.md) through the real client.

Each test names the relation it proves (see docs/relations.md) and
checks both sides: what the owning plugin stored and what the other plugin saw.
"""

from __future__ import annotations

from byway.testing import error_codes

from .conftest import World

ME = "{ me { id email teacherProfileId roles } }"
MY_STUDENT = "{ myStudent { id userId displayName } }"
ENROLL_ME = "mutation E($c: ID!) { enrollMe(courseId: $c) { id studentId courseId enrolledAt } }"
IS_ENROLLED_ME = "query Q($c: ID!) { isEnrolledMe(courseId: $c) }"
MY_COURSES = "{ myCourses { courseId studentId } }"
COURSE = "query C($id: ID!) { course(id: $id) { id teacherId isEnrolled modules { id } } }"
DELETE_COURSE = "mutation D($id: ID!) { deleteCourse(id: $id) }"


async def test_relation_1_user_id_is_student_user_id(world: World) -> None:
    """1) authentication.User.id <-> students-internal.Student.userId."""
    teacher, _ = await world.teacher()
    course_id = await world.course(teacher, price=0)
    student = await world.user("student")

    body = await world.gql("students-internal", MY_STUDENT, token=student.token)
    assert body["data"]["myStudent"] is None  # no Student row before the first enrollment

    body = await world.gql("students-internal", ENROLL_ME, {"c": course_id}, token=student.token)
    assert "errors" not in body, body
    enrollment = body["data"]["enrollMe"]

    body = await world.gql("students-internal", MY_STUDENT, token=student.token)
    row = body["data"]["myStudent"]
    me = (await world.gql("authentication", ME, token=student.token))["data"]["me"]
    assert row["userId"] == me["id"] == student.user_id
    assert enrollment["studentId"] == row["id"]

    # REST twin: the same user's POST /students returns the existing row (200, not 201).
    response = await world.app.client.post(
        "/api/students-internal/students",
        json={"userId": student.user_id, "displayName": "Again"},
        headers={"Authorization": f"Bearer {student.token}"},
    )
    assert response.status_code == 200
    assert response.json()["id"] == row["id"]

    # A user may not create a Student for somebody else.
    other = await world.user("other")
    response = await world.app.client.post(
        "/api/students-internal/students",
        json={"userId": student.user_id, "displayName": "Impostor"},
        headers={"Authorization": f"Bearer {other.token}"},
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_relation_2_teacher_profile_linked_to_user(world: World) -> None:
    """2) authentication.User.teacherProfileId <-> teach.TeacherProfile.id."""
    teacher, profile_id = await world.teacher(verified=False)
    me = (await world.gql("authentication", ME, token=teacher.token))["data"]["me"]
    assert me["teacherProfileId"] == profile_id
    profile = (await world.gql("teach", "{ myTeacherProfile { id userId } }", token=teacher.token))["data"]
    assert profile["myTeacherProfile"] == {"id": profile_id, "userId": teacher.user_id}

    # Nobody can point their user at another user's profile.
    intruder = await world.user("intruder")
    body = await world.gql(
        "authentication",
        "mutation L($p: ID!) { updateUserTeacherProfile(teacherProfileId: $p) { id } }",
        {"p": profile_id},
        token=intruder.token,
    )
    assert error_codes(body) == ["FORBIDDEN"]
    me = (await world.gql("authentication", ME, token=intruder.token))["data"]["me"]
    assert me["teacherProfileId"] is None


async def test_relation_3_course_teacher_is_verified_caller(world: World) -> None:
    """3) teach-internal.Course.teacherId <-> authentication.User.id (verified profile required)."""
    unverified, _ = await world.teacher(verified=False)
    body = await world.gql(
        "teach-internal",
        'mutation { createCourse(title: "T", priceCents: 0) { id } }',
        token=unverified.token,
    )
    assert error_codes(body) == ["FORBIDDEN"]
    no_profile = await world.user("plain")
    body = await world.gql(
        "teach-internal", 'mutation { createCourse(title: "T", priceCents: 0) { id } }', token=no_profile.token
    )
    assert error_codes(body) == ["FORBIDDEN"]

    teacher, _ = await world.teacher()
    course_id = await world.course(teacher)
    course = (await world.gql("teach-internal", COURSE, {"id": course_id}))["data"]["course"]
    me = (await world.gql("authentication", ME, token=teacher.token))["data"]["me"]
    assert course["teacherId"] == me["id"] == teacher.user_id


async def test_relation_6_enrollment_course_exists_and_restricts_delete(world: World) -> None:
    """6) students-internal.Enrollment.courseId <-> teach-internal.Course.id."""
    teacher, _ = await world.teacher()
    free_id = await world.course(teacher, price=0)
    paid_id = await world.course(teacher, price=4900)
    student = await world.user("student")

    body = await world.gql("students-internal", ENROLL_ME, {"c": "no-such-course"}, token=student.token)
    assert error_codes(body) == ["NOT_FOUND"]
    body = await world.gql("students-internal", ENROLL_ME, {"c": paid_id}, token=student.token)
    assert error_codes(body) == ["FORBIDDEN"]

    course = (await world.gql("teach-internal", COURSE, {"id": free_id}, token=student.token))["data"]["course"]
    assert course["isEnrolled"] is False
    body = await world.gql("students-internal", ENROLL_ME, {"c": free_id}, token=student.token)
    assert body["data"]["enrollMe"]["courseId"] == free_id
    assert (await world.gql("students-internal", IS_ENROLLED_ME, {"c": free_id}, token=student.token))["data"] == {
        "isEnrolledMe": True
    }
    course = (await world.gql("teach-internal", COURSE, {"id": free_id}, token=student.token))["data"]["course"]
    assert course["isEnrolled"] is True
    courses = (await world.gql("students-internal", MY_COURSES, token=student.token))["data"]["myCourses"]
    assert [c["courseId"] for c in courses] == [free_id]

    # The owner cannot delete a course that enrollments reference...
    body = await world.gql("teach-internal", DELETE_COURSE, {"id": free_id}, token=teacher.token)
    assert error_codes(body) == ["CONFLICT"]
    assert body["errors"][0]["extensions"]["references"] == [
        {"plugin": "students-internal", "type": "Enrollment", "field": "courseId", "count": 1}
    ]
    assert (await world.gql("teach-internal", COURSE, {"id": free_id}))["data"]["course"] is not None
    # ...but can delete one nobody references.
    body = await world.gql("teach-internal", DELETE_COURSE, {"id": paid_id}, token=teacher.token)
    assert body["data"] == {"deleteCourse": True}
    assert (await world.gql("teach-internal", COURSE, {"id": paid_id}))["data"]["course"] is None


async def test_is_enrolled_is_one_call_per_request(world: World) -> None:
    """Course.isEnrolled is batched: one call to students-internal however many courses."""
    teacher, _ = await world.teacher()
    ids = [await world.course(teacher, price=0) for _ in range(6)]
    student = await world.user("student")
    await world.gql("students-internal", ENROLL_ME, {"c": ids[2]}, token=student.token)
    with world.app.host.observe_calls() as calls:
        body = await world.gql("teach-internal", "{ courses(first: 50) { id isEnrolled } }", token=student.token)
    listed = {c["id"]: c["isEnrolled"] for c in body["data"]["courses"]}
    assert listed == {i: i == ids[2] for i in ids}
    to_students = [c for c in calls if c.target == "students-internal"]
    assert len(to_students) == 1, calls
