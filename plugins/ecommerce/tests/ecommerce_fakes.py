"""Test-only stand-ins for ``students-internal`` and ``teach-internal``.

They implement exactly the contract operations ecommerce calls (``/tmp/contract.md``), with the
contract's permission rules, in-memory state, counters of what they were asked, and switches
that make them fail. Each test builds fresh instances (they are plugin *objects*, not modules).
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from ariadne import MutationType, QueryType

import byway
from byway.auth import Principal, require_service_or_admin, require_user
from byway.context import RequestContext
from byway.declarations import GraphQLApi, PluginInfo
from byway.errors import BadUserInput, Forbidden, NotFound, Unauthenticated, UpstreamUnavailable

STUDENTS_SDL = """
type Student { id: ID! userId: ID displayName: String }
type Enrollment { id: ID! studentId: ID! courseId: ID! enrolledAt: String! }
type EnrollmentStatus { courseId: ID! enrolled: Boolean! }
type Query {
  myStudent: Student
  student(id: ID!): Student
  studentsByIds(ids: [ID!]!): [Student]!
  enrollmentStatus(courseIds: [ID!]!, studentId: ID): [EnrollmentStatus!]!
  isEnrolledMe(courseId: ID!): Boolean!
}
type Mutation {
  registerStudent(userId: ID!, displayName: String): Student!
  enrollStudent(studentId: ID!, courseId: ID!): Enrollment!
  revokeEnrollment(studentId: ID!, courseId: ID!): Boolean!
}
"""

COURSES_SDL = """
type Course { id: ID! teacherId: ID! title: String! priceCents: Int! currency: String! published: Boolean! }
type Query {
  coursesByIds(ids: [ID!]!): [Course]!
  course(id: ID!): Course
}
"""


def _ctx(info: Any) -> RequestContext:
    context: RequestContext = info.context
    return context


class FakeStudents:
    """``students-internal``: students, enrollments, and what ecommerce asked of it."""

    def __init__(self) -> None:
        self.students: dict[str, dict[str, Any]] = {}
        self.enrollments: set[tuple[str, str]] = set()
        #: Every operation called, by root field name.
        self.calls: Counter[str] = Counter()
        #: Every (studentId, courseId) enrollStudent / revokeEnrollment was called with.
        self.enroll_calls: list[tuple[str, str]] = []
        self.revoke_calls: list[tuple[str, str]] = []
        #: Switch: enrollStudent and revokeEnrollment answer UPSTREAM_UNAVAILABLE.
        self.fail_writes = False
        #: Switch: every operation answers UPSTREAM_UNAVAILABLE.
        self.fail_all = False

    # helpers for tests
    def add_student(self, user_id: str | None = None) -> str:
        """Create a student (optionally of a user); returns its id."""
        student_id = "stu_" + uuid.uuid4().hex[:12]
        self.students[student_id] = {"id": student_id, "userId": user_id, "displayName": None}
        return student_id

    def student_of(self, user_id: str) -> str | None:
        """The id of a user's student, if any."""
        return next((s["id"] for s in self.students.values() if s["userId"] == user_id), None)

    def _mine(self, principal: Principal) -> dict[str, Any] | None:
        return next((s for s in self.students.values() if s["userId"] == principal.user_id), None)

    def _gate(self, name: str) -> None:
        self.calls[name] += 1
        if self.fail_all:
            raise UpstreamUnavailable("students-internal is down (test switch)")

    @byway.hookimpl
    def byway_register_plugin(self) -> PluginInfo:
        return PluginInfo(name="students-internal", description="test fake")

    @byway.hookimpl
    def byway_register_schema(self) -> GraphQLApi:
        query = QueryType()
        mutation = MutationType()

        @query.field("myStudent")
        def my_student(_: Any, info: Any) -> dict[str, Any] | None:
            self._gate("myStudent")
            return self._mine(require_user(_ctx(info).principal))

        @query.field("student")
        def student(_: Any, info: Any, id: str) -> dict[str, Any] | None:
            self._gate("student")
            principal = _ctx(info).principal
            found = self.students.get(id)
            if principal.is_service or principal.is_admin:
                return found
            require_user(principal)
            if found is None or found["userId"] != principal.user_id:
                raise Forbidden("not your student")
            return found

        @query.field("studentsByIds")
        def students_by_ids(_: Any, info: Any, ids: list[str]) -> list[dict[str, Any] | None]:
            self._gate("studentsByIds")
            require_service_or_admin(_ctx(info).principal)
            return [self.students.get(student_id) for student_id in ids]

        @query.field("enrollmentStatus")
        def enrollment_status(_: Any, info: Any, courseIds: list[str], studentId: str | None = None) -> Any:
            self._gate("enrollmentStatus")
            principal = _ctx(info).principal
            if len(courseIds) > 500:
                raise BadUserInput("at most 500", field="courseIds")
            if studentId is None:
                if principal.is_anonymous:
                    raise Unauthenticated()
                mine = self._mine(principal)
                studentId = mine["id"] if mine else None
            elif not (principal.is_service or principal.is_admin):
                mine = self._mine(require_user(principal))
                if mine is None or mine["id"] != studentId:
                    raise Forbidden("not your student")
            return [{"courseId": c, "enrolled": (studentId, c) in self.enrollments} for c in courseIds]

        @query.field("isEnrolledMe")
        def is_enrolled_me(_: Any, info: Any, courseId: str) -> bool:
            self._gate("isEnrolledMe")
            mine = self._mine(require_user(_ctx(info).principal))
            return mine is not None and (mine["id"], courseId) in self.enrollments

        @mutation.field("registerStudent")
        def register_student(_: Any, info: Any, userId: str, displayName: str | None = None) -> dict[str, Any]:
            self._gate("registerStudent")
            principal = _ctx(info).principal
            if not (principal.is_service or principal.is_admin):
                if require_user(principal).user_id != userId:
                    raise Forbidden("only for yourself")
            existing = next((s for s in self.students.values() if s["userId"] == userId), None)
            if existing is not None:
                return existing
            return self.students[self.add_student(userId)]

        @mutation.field("enrollStudent")
        def enroll_student(_: Any, info: Any, studentId: str, courseId: str) -> dict[str, Any]:
            self._gate("enrollStudent")
            require_service_or_admin(_ctx(info).principal)
            if self.fail_writes:
                raise UpstreamUnavailable("students-internal cannot write (test switch)")
            if studentId not in self.students:
                raise NotFound("no such student")
            self.enroll_calls.append((studentId, courseId))
            self.enrollments.add((studentId, courseId))
            return {"id": f"{studentId}:{courseId}", "studentId": studentId, "courseId": courseId, "enrolledAt": "now"}

        @mutation.field("revokeEnrollment")
        def revoke_enrollment(_: Any, info: Any, studentId: str, courseId: str) -> bool:
            self._gate("revokeEnrollment")
            require_service_or_admin(_ctx(info).principal)
            if self.fail_writes:
                raise UpstreamUnavailable("students-internal cannot write (test switch)")
            self.revoke_calls.append((studentId, courseId))
            if (studentId, courseId) in self.enrollments:
                self.enrollments.discard((studentId, courseId))
                return True
            return False

        return GraphQLApi(STUDENTS_SDL, [query, mutation])


class FakeCourses:
    """``teach-internal``: a catalogue of courses with prices that tests can change."""

    def __init__(self) -> None:
        self.courses: dict[str, dict[str, Any]] = {}
        self.calls: Counter[str] = Counter()
        #: Switch: every operation answers UPSTREAM_UNAVAILABLE.
        self.fail_all = False

    def add_course(
        self, title: str = "Course", price: int = 1000, currency: str = "USD", published: bool = True
    ) -> str:
        """Create a course; returns its id."""
        course_id = "crs_" + uuid.uuid4().hex[:12]
        self.courses[course_id] = {
            "id": course_id,
            "teacherId": "teacher-1",
            "title": title,
            "priceCents": price,
            "currency": currency,
            "published": published,
        }
        return course_id

    def _visible(self, principal: Principal, course_id: str) -> dict[str, Any] | None:
        course = self.courses.get(course_id)
        if course is None:
            return None
        if course["published"] or principal.is_service or principal.is_admin:
            return course
        return course if principal.user_id == course["teacherId"] else None

    @byway.hookimpl
    def byway_register_plugin(self) -> PluginInfo:
        return PluginInfo(name="teach-internal", description="test fake")

    @byway.hookimpl
    def byway_register_schema(self) -> GraphQLApi:
        query = QueryType()

        @query.field("coursesByIds")
        def courses_by_ids(_: Any, info: Any, ids: list[str]) -> list[dict[str, Any] | None]:
            self.calls["coursesByIds"] += 1
            if self.fail_all:
                raise UpstreamUnavailable("teach-internal is down (test switch)")
            principal = _ctx(info).principal
            return [self._visible(principal, course_id) for course_id in ids]

        @query.field("course")
        def course(_: Any, info: Any, id: str) -> dict[str, Any] | None:
            self.calls["course"] += 1
            return self._visible(_ctx(info).principal, id)

        return GraphQLApi(COURSES_SDL, [query])


NOTIFICATIONS_SDL = """
type Query { sent: Int! }
type Mutation {
  sendEmail(to: String!, subject: String!, text: String!, html: String, key: String): Boolean!
}
"""

AUTHENTICATION_SDL = """
type User { id: ID! email: String! }
type Query { user(id: ID!): User }
"""


class FakeNotifications:
    """``notifications``: ``sendEmail`` as the contract says (service only, idempotent on key per service),
    recording what it received; ``fail_all`` makes it answer UPSTREAM_UNAVAILABLE."""

    def __init__(self) -> None:
        #: Every accepted message (once per key), with the calling service.
        self.messages: list[dict[str, Any]] = []
        #: Every sendEmail call, accepted or refused.
        self.calls = 0
        self.fail_all = False

    @byway.hookimpl
    def byway_register_plugin(self) -> PluginInfo:
        return PluginInfo(name="notifications", description="test fake")

    @byway.hookimpl
    def byway_register_schema(self) -> GraphQLApi:
        query = QueryType()
        mutation = MutationType()

        @query.field("sent")
        def sent(_: Any, info: Any) -> int:
            return len(self.messages)

        @mutation.field("sendEmail")
        def send_email(
            _: Any, info: Any, to: str, subject: str, text: str, html: str | None = None, key: str | None = None
        ) -> bool:
            self.calls += 1
            principal = _ctx(info).principal
            if principal.is_anonymous:
                raise Unauthenticated()
            if not principal.is_service:
                raise Forbidden("services only")
            if self.fail_all:
                raise UpstreamUnavailable("notifications is down (test switch)")
            if key is not None and any(m["key"] == key and m["sender"] == principal.service for m in self.messages):
                return True
            message = {"to": to, "subject": subject, "text": text, "html": html, "key": key}
            self.messages.append(message | {"sender": principal.service})
            return True

        return GraphQLApi(NOTIFICATIONS_SDL, [query, mutation])


class FakeAuthentication:
    """``authentication``: ``user(id)`` for services (the buyer's email for receipts)."""

    def __init__(self) -> None:
        self.emails: dict[str, str] = {}

    @byway.hookimpl
    def byway_register_plugin(self) -> PluginInfo:
        return PluginInfo(name="authentication", description="test fake")

    @byway.hookimpl
    def byway_register_schema(self) -> GraphQLApi:
        query = QueryType()

        @query.field("user")
        def user(_: Any, info: Any, id: str) -> dict[str, Any] | None:
            principal = _ctx(info).principal
            if not (principal.is_service or principal.is_admin or principal.user_id == id):
                raise Forbidden("not yours")
            return {"id": id, "email": self.emails[id]} if id in self.emails else None

        return GraphQLApi(AUTHENTICATION_SDL, [query])
