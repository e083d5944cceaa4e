"""``relations.audit`` on the four core plugins: clean after a normal flow, and a tampered row is found."""

from __future__ import annotations

from byway_teach_internal.models import courses
from sqlalchemy import delete

from byway import relations

from .conftest import World

ENROLL_ME = "mutation E($c: ID!) { enrollMe(courseId: $c) { courseId } }"

#: Every relation the core plugins declare, each with an audit.
AUDITED = {
    "authentication.User.teacherProfileId",
    "teach.TeacherProfile.userId",
    "teach-internal.Course.teacherId",
    "students-internal.Student.userId",
    "students-internal.Enrollment.courseId",
    "students-internal.LessonProgress.lessonId",
    "students-internal.LessonProgress.courseId",
    "students-internal.Certificate.courseId",
}


async def test_audit_is_clean_after_a_normal_flow_and_finds_a_deleted_course(world: World) -> None:
    teacher, _ = await world.teacher()
    kept = await world.course(teacher, price=0)
    doomed = await world.course(teacher, price=0)
    await world.course(teacher, price=4900, published=False)
    for name in ("alice", "bob"):
        student = await world.user(name)
        for course_id in (kept, doomed):
            body = await world.gql("students-internal", ENROLL_ME, {"c": course_id}, token=student.token)
            assert "errors" not in body, body

    host = world.app.host
    with host.observe_calls() as calls:
        reports = {r.relation.source: r for r in await relations.audit(host)}
    assert set(reports) == AUDITED
    assert {source: (r.checked, r.dangling, r.skipped, r.error) for source, r in reports.items()} == {
        "authentication.User.teacherProfileId": (1, [], None, None),
        "teach.TeacherProfile.userId": (1, [], None, None),
        "teach-internal.Course.teacherId": (1, [], None, None),
        "students-internal.Student.userId": (2, [], None, None),
        "students-internal.Enrollment.courseId": (2, [], None, None),
        # nobody has progress or a certificate yet (tests/integration/test_learning_e2e.py audits them)
        "students-internal.LessonProgress.lessonId": (0, [], None, None),
        "students-internal.LessonProgress.courseId": (0, [], None, None),
        "students-internal.Certificate.courseId": (0, [], None, None),
    }
    # One lookup per relation, each as the source plugin's service, through the target's API.
    assert sorted((c.caller, c.target, c.operation, c.as_kind) for c in calls) == [
        ("authentication", "teach", "TeacherProfilesExist", "service"),
        ("students-internal", "authentication", "UsersExist", "service"),
        ("students-internal", "teach-internal", "CoursesExist", "service"),
        ("teach", "authentication", "UsersExist", "service"),
        ("teach-internal", "authentication", "UsersExist", "service"),
    ]

    # Test-only tampering: remove a course behind teach-internal's back, in its own database.
    async with host.plugins["teach-internal"].sessions() as session:
        await session.execute(delete(courses).where(courses.c.id == doomed))
        await session.commit()

    reports = {r.relation.source: r for r in await relations.audit(host)}
    enrollment = reports["students-internal.Enrollment.courseId"]
    assert (enrollment.checked, enrollment.dangling, enrollment.error) == (2, [doomed], None)
    assert all(r.clean for source, r in reports.items() if source != "students-internal.Enrollment.courseId")
