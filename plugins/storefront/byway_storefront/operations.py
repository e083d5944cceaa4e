"""Every GraphQL document the storefront sends (the only way it reads or writes anything).

All are sent on behalf of the visitor (their access token is forwarded), never as a service,
so each plugin applies its own rules to the person at the browser.
"""

from __future__ import annotations

from byway import Operation

# --- authentication -------------------------------------------------------------------------

_AUTH = "token refreshToken expiresAt user { id email displayName roles emailVerified }"

REGISTER = f"""
mutation Register($email: String!, $password: String!, $firstName: String, $lastName: String) {{
  register(email: $email, password: $password, firstName: $firstName, lastName: $lastName) {{ {_AUTH} }}
}}
"""

LOGIN = f"""
mutation Login($email: String!, $password: String!) {{
  login(email: $email, password: $password) {{ {_AUTH} }}
}}
"""

REFRESH = f"""
mutation Refresh($refreshToken: String!) {{
  refreshToken(refreshToken: $refreshToken) {{ {_AUTH} }}
}}
"""

LOGOUT = """
mutation Logout($refreshToken: String!) {
  logout(refreshToken: $refreshToken)
}
"""

REQUEST_PASSWORD_RESET = """
mutation RequestPasswordReset($email: String!) {
  requestPasswordReset(email: $email)
}
"""

RESET_PASSWORD = f"""
mutation ResetPassword($token: String!, $newPassword: String!) {{
  resetPassword(token: $token, newPassword: $newPassword) {{ {_AUTH} }}
}}
"""

VERIFY_EMAIL = """
mutation VerifyEmail($token: String!) {
  verifyEmail(token: $token) { id email emailVerified }
}
"""

REQUEST_EMAIL_VERIFICATION = """
mutation RequestEmailVerification {
  requestEmailVerification
}
"""

ME = """
query Me {
  me { id email displayName emailVerified roles teacherProfileId }
}
"""

# --- teach-internal: the catalog and courses ----------------------------------------------------

CATALOG = """
query Catalog($first: Int!, $after: ID, $search: String, $category: String, $difficulty: Difficulty, $free: Boolean) {
  courses(first: $first, after: $after, search: $search, category: $category, difficulty: $difficulty, free: $free) {
    id title description priceCents currency category difficulty coverUrl lessonCount isEnrolled
    teacher { displayName }
  }
  courseCount(search: $search, category: $category, difficulty: $difficulty, free: $free)
  categories { name courseCount }
}
"""

COURSE = """
query Course($id: ID!) {
  course(id: $id) {
    id teacherId title description priceCents currency published category difficulty coverUrl lessonCount isEnrolled
    teacher { displayName bio avatarUrl }
    modules { id title position lessons { id title preview position type duration } }
  }
}
"""

#: The course of a lesson with every lesson's (gated) content: what the lesson page shows.
LESSON_COURSE = """
query LessonCourse($id: ID!) {
  course(id: $id) {
    id teacherId title priceCents currency published isEnrolled
    modules { id title position lessons { id title preview position type duration content videoUrl } }
  }
}
"""

#: Which course a lesson belongs to, for a ``/lessons/<id>`` link that does not say. Sent as the
#: storefront's service (``lessonsByIds`` is service-only) and selecting nothing but the course id:
#: the lesson itself is then read as the visitor, with its gating.
LESSON_COURSE_ID = """
query LessonCourseId($ids: [ID!]!) {
  lessonsByIds(ids: $ids) { id courseId }
}
"""

# --- students-internal --------------------------------------------------------------------------

ENROLL_ME = """
mutation EnrollMe($courseId: ID!) {
  enrollMe(courseId: $courseId) { id courseId }
}
"""

MY_PROGRESS = """
query MyProgress($courseId: ID!) {
  myProgress(courseId: $courseId) { lessonId completed }
}
"""

UPDATE_PROGRESS = """
mutation UpdateProgress($lessonId: ID!, $completed: Boolean!) {
  updateProgress(lessonId: $lessonId, completed: $completed) { lessonId courseId completed }
}
"""

MY_COURSES = """
query MyCourses {
  myCourses { id courseId enrolledAt progress completed completedAt course { id title coverUrl lessonCount } }
}
"""

CERTIFICATE = """
query Certificate($courseId: ID!) {
  certificate(courseId: $courseId) { code courseId courseTitle studentName issuedAt url }
}
"""

# --- ecommerce ----------------------------------------------------------------------------------

CREATE_CHECKOUT = """
mutation CreateCheckout($courseId: ID!, $successUrl: String!, $cancelUrl: String!) {
  createCheckout(items: [{courseId: $courseId}], successUrl: $successUrl, cancelUrl: $cancelUrl) {
    sessionId url orderId
  }
}
"""

VERIFY_CHECKOUT = """
query VerifyCheckout($sessionId: ID!) {
  verifyCheckout(sessionId: $sessionId) { ok orderId status }
}
"""

MY_ORDERS = """
query MyOrders {
  myOrders { id status totalCents currency createdAt paidAt items { courseId title priceCents currency } }
}
"""

# --- teach and teach-internal: authoring ------------------------------------------------------

MY_TEACHER_PROFILE = """
query MyTeacherProfile {
  myTeacherProfile { id bio subjects verified }
}
"""

CREATE_TEACHER_PROFILE = """
mutation CreateTeacherProfile($bio: String!, $subjects: [String!]) {
  createTeacherProfile(bio: $bio, subjects: $subjects) { id verified }
}
"""

TEACHING_COURSES = """
query TeachingCourses {
  teachingCourses { id title published priceCents currency category difficulty lessonCount }
}
"""

#: A course as its owner edits it (unpublished too; every lesson's content).
EDIT_COURSE = """
query EditCourse($id: ID!) {
  course(id: $id) {
    id teacherId title description priceCents currency published category difficulty coverUrl lessonCount
    modules { id title position lessons { id title preview position type duration content videoUrl } }
  }
}
"""

CREATE_COURSE = """
mutation CreateCourse($title: String!, $description: String, $priceCents: Int!, $currency: String,
                      $category: String, $difficulty: Difficulty, $coverUrl: String) {
  createCourse(title: $title, description: $description, priceCents: $priceCents, currency: $currency,
               category: $category, difficulty: $difficulty, coverUrl: $coverUrl) { id }
}
"""

UPDATE_COURSE = """
mutation UpdateCourse($id: ID!, $title: String, $description: String, $priceCents: Int, $category: String,
                      $difficulty: Difficulty, $coverUrl: String) {
  updateCourse(id: $id, title: $title, description: $description, priceCents: $priceCents,
               category: $category, difficulty: $difficulty, coverUrl: $coverUrl) { id }
}
"""

PUBLISH_COURSE = """
mutation PublishCourse($id: ID!, $published: Boolean!) {
  updateCourse(id: $id, published: $published) { id published }
}
"""

CREATE_MODULE = """
mutation CreateModule($courseId: ID!, $title: String!) {
  createModule(courseId: $courseId, title: $title) { id }
}
"""

UPDATE_MODULE = """
mutation UpdateModule($id: ID!, $title: String) {
  updateModule(id: $id, title: $title) { id }
}
"""

DELETE_MODULE = """
mutation DeleteModule($id: ID!) {
  deleteModule(id: $id)
}
"""

REORDER_MODULES = """
mutation ReorderModules($courseId: ID!, $ids: [ID!]!) {
  reorderModules(courseId: $courseId, ids: $ids) { id }
}
"""

CREATE_LESSON = """
mutation CreateLesson($moduleId: ID!, $title: String!, $content: String, $preview: Boolean, $type: LessonType,
                      $duration: Int, $videoUrl: String) {
  createLesson(moduleId: $moduleId, title: $title, content: $content, preview: $preview, type: $type,
               duration: $duration, videoUrl: $videoUrl) { id }
}
"""

UPDATE_LESSON = """
mutation UpdateLesson($id: ID!, $title: String, $content: String, $preview: Boolean, $type: LessonType,
                      $duration: Int, $videoUrl: String) {
  updateLesson(id: $id, title: $title, content: $content, preview: $preview, type: $type,
               duration: $duration, videoUrl: $videoUrl) { id }
}
"""

DELETE_LESSON = """
mutation DeleteLesson($id: ID!) {
  deleteLesson(id: $id)
}
"""

REORDER_LESSONS = """
mutation ReorderLessons($moduleId: ID!, $ids: [ID!]!) {
  reorderLessons(moduleId: $moduleId, ids: $ids) { id }
}
"""

OPERATIONS = [
    Operation("authentication", REGISTER),
    Operation("authentication", LOGIN),
    Operation("authentication", REFRESH),
    Operation("authentication", LOGOUT),
    Operation("authentication", REQUEST_PASSWORD_RESET),
    Operation("authentication", RESET_PASSWORD),
    Operation("authentication", VERIFY_EMAIL),
    Operation("authentication", REQUEST_EMAIL_VERIFICATION),
    Operation("authentication", ME),
    Operation("teach-internal", CATALOG),
    Operation("teach-internal", COURSE),
    Operation("teach-internal", LESSON_COURSE),
    Operation("teach-internal", LESSON_COURSE_ID),
    Operation("teach-internal", TEACHING_COURSES),
    Operation("teach-internal", EDIT_COURSE),
    Operation("teach-internal", CREATE_COURSE),
    Operation("teach-internal", UPDATE_COURSE),
    Operation("teach-internal", PUBLISH_COURSE),
    Operation("teach-internal", CREATE_MODULE),
    Operation("teach-internal", UPDATE_MODULE),
    Operation("teach-internal", DELETE_MODULE),
    Operation("teach-internal", REORDER_MODULES),
    Operation("teach-internal", CREATE_LESSON),
    Operation("teach-internal", UPDATE_LESSON),
    Operation("teach-internal", DELETE_LESSON),
    Operation("teach-internal", REORDER_LESSONS),
    Operation("students-internal", ENROLL_ME),
    Operation("students-internal", MY_PROGRESS),
    Operation("students-internal", UPDATE_PROGRESS),
    Operation("students-internal", MY_COURSES),
    Operation("students-internal", CERTIFICATE),
    Operation("ecommerce", CREATE_CHECKOUT),
    Operation("ecommerce", VERIFY_CHECKOUT),
    Operation("ecommerce", MY_ORDERS),
    Operation("teach", MY_TEACHER_PROFILE),
    Operation("teach", CREATE_TEACHER_PROFILE),
]
