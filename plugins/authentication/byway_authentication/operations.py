"""GraphQL documents ``authentication`` sends to other plugins (validated against them at start-up)."""

from __future__ import annotations

from byway.declarations import Operation

#: Ask teach, as the user, whose profile this is (null when it does not exist or is hidden from them).
TEACHER_PROFILE_OWNER = """
query TeacherProfile($id: ID!) {
  teacherProfile(id: $id) { id userId }
}
"""

OPERATIONS = [Operation(target="teach", document=TEACHER_PROFILE_OWNER)]
