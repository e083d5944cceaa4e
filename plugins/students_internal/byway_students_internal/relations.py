"""The ids ``students-internal`` holds for other plugins, and what happens when their owner deletes.

``column`` makes the host apply the on-delete policy across databases (``byway.cascade``): when
teach-internal deletes a course or lesson it first asks, through a host-provided service-only
operation of this plugin, how many rows restrict it (enrollments, certificates: ``CONFLICT``), then
has this plugin delete the rows that cascade (lesson progress), before its own rows go.
"""

from __future__ import annotations

import byway
from byway_students_internal.models import certificates, enrollments, lesson_progress, students
from byway_students_internal.operations import COURSES_EXIST, LESSONS_EXIST, USERS_EXIST

RELATIONS = [
    # Optional: users prove who they are with their token, and the existence check for students
    # registered by a service or an admin runs only when authentication is known.
    byway.Relation(
        "students-internal.Student.userId",
        "authentication.User",
        on_write="must exist (the caller's own token, or authentication.user for services and admins)",
        on_delete="restrict (users are never deleted)",
        enforced_by=(
            "students-internal.registerStudent",
            "POST /api/students-internal/students",
            "students-internal.enrollMe",
        ),
        optional=True,
        held_ids=byway.held_ids(students.c.user_id),
        exists=USERS_EXIST,
    ),
    byway.Relation(
        "students-internal.Enrollment.courseId",
        "teach-internal.Course",
        on_write="must exist (published and free for enrollMe; any for enrollStudent)",
        on_delete="restrict: a course with students cannot be deleted (unpublish it)",
        enforced_by=(
            "students-internal.enrollMe",
            "students-internal.enrollStudent",
            "teach-internal.deleteCourse",
        ),
        held_ids=byway.held_ids(enrollments.c.course_id),
        exists=COURSES_EXIST,
        column=enrollments.c.course_id,
    ),
    byway.Relation(
        "students-internal.LessonProgress.lessonId",
        "teach-internal.Lesson",
        on_write="must exist, in a course the caller is enrolled in (teach-internal.lessonsByIds)",
        on_delete="cascade: deleting a lesson (or its module or course) deletes its progress records",
        enforced_by=(
            "students-internal.updateProgress",
            "teach-internal.deleteLesson",
            "teach-internal.deleteModule",
            "teach-internal.deleteCourse",
        ),
        held_ids=byway.held_ids(lesson_progress.c.lesson_id),
        exists=LESSONS_EXIST,
        column=lesson_progress.c.lesson_id,
    ),
    byway.Relation(
        "students-internal.LessonProgress.courseId",
        "teach-internal.Course",
        on_write="the lesson's course as teach-internal says (never the client's)",
        on_delete="cascade: deleting a course deletes its progress records",
        enforced_by=("students-internal.updateProgress", "teach-internal.deleteCourse"),
        held_ids=byway.held_ids(lesson_progress.c.course_id),
        exists=COURSES_EXIST,
        column=lesson_progress.c.course_id,
    ),
    byway.Relation(
        "students-internal.Certificate.courseId",
        "teach-internal.Course",
        on_write="issued once, on the first completion of the course (all its lessons done)",
        on_delete="restrict: an issued certificate must keep verifying",
        enforced_by=("students-internal.updateProgress", "teach-internal.deleteCourse"),
        held_ids=byway.held_ids(certificates.c.course_id),
        exists=COURSES_EXIST,
        column=certificates.c.course_id,
    ),
]
