"""The GraphQL documents ``ecommerce`` sends to other plugins (validated against them at start-up)."""

from __future__ import annotations

from byway import Operation

STUDENTS = "students-internal"
COURSES = "teach-internal"
NOTIFICATIONS = "notifications"
AUTHENTICATION = "authentication"

#: teach-internal, as the buyer (as service for anonymous buyers): titles and prices, ONE call per checkout.
COURSES_BY_IDS = """
query CoursesByIds($ids: [ID!]!) {
  coursesByIds(ids: $ids) { id title priceCents currency published }
}
"""

#: students-internal, as the user: the caller's Student (null when none yet).
MY_STUDENT = """
query MyStudent {
  myStudent { id userId }
}
"""

#: students-internal, as the user: the caller's Student and which of the courses they own, in ONE
#: call (a user's checkout then makes two: this and teach-internal's prices).
BUYER = """
query Buyer($courseIds: [ID!]!) {
  myStudent { id userId }
  enrollmentStatus(courseIds: $courseIds) { courseId enrolled }
}
"""

#: students-internal, as the user: create the caller's Student (idempotent).
REGISTER_STUDENT = """
mutation RegisterStudent($userId: ID!) {
  registerStudent(userId: $userId) { id userId }
}
"""

#: students-internal, as service: does the student an anonymous buyer names exist?
STUDENT = """
query Student($id: ID!) {
  student(id: $id) { id userId }
}
"""

#: students-internal, as service: which of these courses the buyer owns, ONE call per checkout.
ENROLLMENT_STATUS = """
query EnrollmentStatus($courseIds: [ID!]!, $studentId: ID) {
  enrollmentStatus(courseIds: $courseIds, studentId: $studentId) { courseId enrolled }
}
"""

#: students-internal, as service: deliver a paid item (idempotent upsert), from the outbox worker.
ENROLL_STUDENT = """
mutation EnrollStudent($studentId: ID!, $courseId: ID!) {
  enrollStudent(studentId: $studentId, courseId: $courseId) { id studentId courseId }
}
"""

#: students-internal, as service: take back a refunded item, from the outbox worker.
REVOKE_ENROLLMENT = """
mutation RevokeEnrollment($studentId: ID!, $courseId: ID!) {
  revokeEnrollment(studentId: $studentId, courseId: $courseId)
}
"""

#: notifications, as service: a receipt or refund notice from the email outbox (idempotent on key).
SEND_EMAIL = """
mutation SendEmail($to: String!, $subject: String!, $text: String!, $html: String, $key: String) {
  sendEmail(to: $to, subject: $subject, text: $text, html: $html, key: $key)
}
"""

#: authentication, as service: where to send a logged-in buyer's receipt when the order has no email.
USER_EMAIL = """
query UserEmail($id: ID!) {
  user(id: $id) { id email }
}
"""

#: byway audit, as service: which of the course ids order items hold still exist.
COURSES_EXIST = """
query CoursesExist($ids: [ID!]!) {
  coursesByIds(ids: $ids) { id }
}
"""

#: byway audit, as service: which of the student ids orders hold still exist.
STUDENTS_EXIST = """
query StudentsExist($ids: [ID!]!) {
  studentsByIds(ids: $ids) { id }
}
"""

OPERATIONS = [
    Operation(COURSES, COURSES_BY_IDS),
    Operation(STUDENTS, MY_STUDENT),
    Operation(STUDENTS, BUYER),
    Operation(STUDENTS, REGISTER_STUDENT),
    Operation(STUDENTS, STUDENT),
    Operation(STUDENTS, ENROLLMENT_STATUS),
    Operation(STUDENTS, ENROLL_STUDENT),
    Operation(STUDENTS, REVOKE_ENROLLMENT),
    Operation(NOTIFICATIONS, SEND_EMAIL),
    Operation(AUTHENTICATION, USER_EMAIL),
]
