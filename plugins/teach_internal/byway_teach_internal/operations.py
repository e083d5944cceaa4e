"""The GraphQL documents ``teach-internal`` sends to other plugins (validated at start-up)."""

from __future__ import annotations

from byway.declarations import Operation

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

#: students-internal, as service: enrollments that restrict deleting a course.
COURSE_ENROLLMENT_COUNT = """
query CourseEnrollmentCount($courseId: ID!) {
  courseEnrollmentCount(courseId: $courseId)
}
"""

#: ecommerce, as service (only when the host knows ecommerce): orders that restrict deleting a course.
COURSE_ORDER_COUNT = """
query CourseOrderCount($courseId: ID!) {
  courseOrderCount(courseId: $courseId)
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
    Operation("teach", MY_TEACHER_PROFILE),
    Operation("students-internal", ENROLLMENT_STATUS),
    Operation("students-internal", COURSE_ENROLLMENT_COUNT),
    Operation("ecommerce", COURSE_ORDER_COUNT),
]
