"""The GraphQL documents ``teach-internal`` sends to other plugins (validated at start-up)."""

from __future__ import annotations

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

#: students-internal, as the user: the caller's enrolled course ids, fetched while a list of courses
#: is read (at most ``first``: fewer means all of them); with more, ENROLLMENT_STATUS answers instead.
ENROLLED_COURSE_IDS = """
query EnrolledCourseIds($first: Int!) {
  enrolledCourseIds(first: $first)
}
"""

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
