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

OPERATIONS = [Operation("teach-internal", COURSE), Operation("authentication", USER)]
