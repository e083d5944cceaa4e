"""The GraphQL documents ``teach-internal`` sends to other plugins (validated at start-up)."""

from __future__ import annotations

import functools

import byway

#: teach, as the user: the caller's teacher profile (createCourse needs a verified one).
MY_TEACHER_PROFILE = """
query MyTeacherProfile {
  myTeacherProfile { id userId verified }
}
"""

#: students-internal, as the user: is the caller enrolled in each of these courses (one call per request).
ENROLLMENT_STATUS = """
query EnrollmentStatus($courseIds: [ID!]!) {
  enrollmentStatus(courseIds: $courseIds) { courseId enrolled }
}
"""


@functools.cache
def enrolled_course_ids(first: int) -> str:
    """students-internal, as the user: at most ``first`` of the caller's enrolled course ids,
    fetched while a list of courses is read (fewer means all of them; with more,
    ENROLLMENT_STATUS answers instead).

    The bound is written into the document rather than passed as a variable: a document without
    variables has its cost computed once by the target and no variables to coerce, ~15 µs of a
    ~230 µs in-process call (docs/performance.md, item 22)."""
    return f"query EnrolledCourseIds {{ enrolledCourseIds(first: {int(first)}) }}"


#: How many of the caller's enrolled course ids a list asks for (a student with more is asked
#: about the list's own ids).
ENROLLED_IDS_ASKED = 200
#: The document as the lists send it.
ENROLLED_COURSE_IDS = enrolled_course_ids(ENROLLED_IDS_ASKED)

#: authentication, as service: the teachers of the courses of a response (Course.teacher, one call).
TEACHER_USERS = """
query TeacherUsers($ids: [ID!]!) {
  usersByIds(ids: $ids) { id displayName avatarUrl teacherProfileId }
}
"""

#: teach, as service: the profiles of those teachers (Course.teacher, one call).
TEACHER_PROFILES = """
query TeacherProfiles($ids: [ID!]!) {
  teacherProfilesByIds(ids: $ids) { id userId bio }
}
"""

#: authentication, as service, for ``byway audit``: which course owners still exist. Declared on the
#: relation (``Relation.exists``), which the host validates at start-up like the operations.
USERS_EXIST = """
query UsersExist($ids: [ID!]!) {
  usersByIds(ids: $ids) { id }
}
"""

OPERATIONS = [
    byway.Operation("teach", MY_TEACHER_PROFILE),
    byway.Operation("students-internal", ENROLLMENT_STATUS),
    byway.Operation("students-internal", ENROLLED_COURSE_IDS),
    byway.Operation("authentication", TEACHER_USERS),
    byway.Operation("teach", TEACHER_PROFILES),
]
