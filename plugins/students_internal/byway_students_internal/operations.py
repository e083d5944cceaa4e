"""The GraphQL documents ``students-internal`` sends to other plugins (validated at start-up)."""

from __future__ import annotations

from byway.declarations import Operation

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

# ``byway audit`` (as service): which referenced users and courses still exist. Declared on the
# relations (``Relation.exists``), which the host validates at start-up like the operations.
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

OPERATIONS = [Operation("teach-internal", COURSE), Operation("authentication", USER)]
