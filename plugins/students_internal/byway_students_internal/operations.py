"""The GraphQL documents ``students-internal`` sends to other plugins (validated at start-up)."""

from __future__ import annotations

import byway

#: teach-internal (as the user for enrollMe, as service for enrollStudent): does the course exist, is it free?
COURSE = """
query Course($id: ID!) {
  course(id: $id) { id title priceCents currency published }
}
"""

#: authentication, as service: does the user a service or admin registers a student for exist?
USER = """
query User($id: ID!) {
  user(id: $id) { id }
}
"""

#: teach-internal, as service: a lesson and its course (updateProgress never trusts the client for either).
LESSONS = """
query Lessons($ids: [ID!]!) {
  lessonsByIds(ids: $ids) { id courseId }
}
"""

#: teach-internal, as service: what progress and Enrollment.course need of each course (one call per request).
COURSE_OUTLINES = """
query CourseOutlines($ids: [ID!]!) {
  coursesByIds(ids: $ids) { id title coverUrl lessonCount lessonIds }
}
"""

#: authentication, as service: the learner's name for a certificate (when their student has none).
USER_NAMES = """
query UserNames($ids: [ID!]!) {
  usersByIds(ids: $ids) { id displayName }
}
"""

# ``byway audit`` (as service): which referenced users, courses and lessons still exist. Declared on
# the relations (``Relation.exists``), which the host validates at start-up like the operations.
USERS_EXIST = """
query UsersExist($ids: [ID!]!) {
  usersByIds(ids: $ids) { id }
}
"""
COURSES_EXIST = """
query CoursesExist($ids: [ID!]!) {
  coursesByIds(ids: $ids) { id }
}
"""
LESSONS_EXIST = """
query LessonsExist($ids: [ID!]!) {
  lessonsByIds(ids: $ids) { id }
}
"""

OPERATIONS = [
    byway.Operation("teach-internal", COURSE),
    byway.Operation("authentication", USER),
    byway.Operation("teach-internal", LESSONS),
    byway.Operation("teach-internal", COURSE_OUTLINES),
    byway.Operation("authentication", USER_NAMES),
]
