"""GraphQL documents ``teach`` sends to ``authentication`` (validated against it at start-up)."""

from __future__ import annotations

import byway

#: Who is calling (as the user): the identity every profile is created for.
ME = """
query Me {
  me { id }
}
"""

#: Link the new profile to the caller's user (as the user); authentication asks teach back.
UPDATE_USER_TEACHER_PROFILE = """
mutation UpdateUserTeacherProfile($teacherProfileId: ID!) {
  updateUserTeacherProfile(teacherProfileId: $teacherProfileId) { id teacherProfileId }
}
"""

#: Grant the "teacher" role once a profile is verified (as the teach service).
GRANT_TEACHER_ROLE = """
mutation GrantRole($userId: ID!) {
  grantRole(userId: $userId, role: "teacher") { id email roles }
}
"""

#: ``byway audit``, as the teach service: which profile owners still exist. Declared on the relation
#: (``Relation.exists``), which the host validates at start-up like the operations.
USERS_EXIST = """
query UsersExist($ids: [ID!]!) {
  usersByIds(ids: $ids) { id }
}
"""

OPERATIONS = [
    byway.Operation(target="authentication", document=ME),
    byway.Operation(target="authentication", document=UPDATE_USER_TEACHER_PROFILE),
    byway.Operation(target="authentication", document=GRANT_TEACHER_ROLE),
]
