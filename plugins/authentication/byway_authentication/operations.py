"""GraphQL documents ``authentication`` sends to other plugins (validated against them at start-up)."""

from __future__ import annotations

from byway.declarations import Operation

#: Ask teach, as the user, whose profile this is (null when it does not exist or is hidden from them).
TEACHER_PROFILE_OWNER = """
query TeacherProfile($id: ID!) {
  teacherProfile(id: $id) { id userId }
}
"""

#: ``byway audit``, as the authentication service: which linked teacher profiles still exist. Declared
#: on the relation (``Relation.exists``), which the host validates at start-up like the operations.
TEACHER_PROFILES_EXIST = """
query TeacherProfilesExist($ids: [ID!]!) {
  teacherProfilesByIds(ids: $ids) { id }
}
"""

#: The outbox job, as the authentication service: verification and password-reset emails.
SEND_EMAIL = """
mutation SendEmail($to: String!, $subject: String!, $text: String!, $html: String, $key: String) {
  sendEmail(to: $to, subject: $subject, text: $text, html: $html, key: $key)
}
"""

OPERATIONS = [
    Operation(target="teach", document=TEACHER_PROFILE_OWNER),
    Operation(target="notifications", document=SEND_EMAIL),
]
