"""The permission table of the four core plugins, with the real plugins and the real cross-plugin client.

Each mutation and sensitive query is tried as each of eight callers and must give EXACTLY the
expected outcome: ``ok`` (and the check function then asserts on the returned data and on what was
stored), ``null``/``hidden``/``true``/``false`` for reads that answer rather than refuse, the one
error code of the response, or the HTTP status of a REST call. Refusals are also checked to have
changed nothing.

Callers (columns of ``TABLE``):

* ``anonymous``: no token.
* ``student``: a registered user with no teacher profile, enrolled (enrollMe) in the shared free
  course. In student-scoped rows (``user``, ``isEnrolled``, ``myCourses``, ``student``,
  ``enrollStudent``, ...) it is *that student*, the one the row asks about; in the rows that
  create a student (``registerStudent``, ``POST /students(new)``) it is a fresh user registering
  themself.
* ``other_student``: another registered user, enrolled in a different course.
* ``unverified_teacher``: a user whose teacher profile is not verified.
* ``teacher``: a verified teacher who owns neither the course nor the profile under test.
* ``owner``: the owner of the object under test: for course, module and lesson rows the verified
  teacher who owns the course; for ``updateUserTeacherProfile`` and ``teacherProfile(payoutEmail)``
  the same verified teacher, whose profile it is; for ``teacherProfile(unverified)`` and
  ``verifyTeacherProfile`` the owner of that unverified profile (necessarily an unverified teacher,
  not the ``unverified_teacher`` caller). In student-scoped rows it is the teacher who owns the
  course the student is enrolled in: a teacher may not read their students' records.
* ``admin``: a user whose token has the admin role.
* ``service``: a service token, ``host.tokens.service_token("ecommerce")``.

Callers without a teacher profile (``student``, ``other_student``, ``admin``) are fresh users of
their kind in ``createTeacherProfile``, which would otherwise give them one.

The world is built once per module; every mutating row works on fresh objects (a new course, a new
profile, a new user) or is idempotent, so rows may run in any order. ``TABLE`` (at the end) is the
table itself; ``CHECKS`` says how each row is run and what "ok" must have returned and stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from byway.testing import error_codes, make_settings

from .conftest import Actor, World, open_world

pytestmark = pytest.mark.asyncio(loop_scope="module")

AUTH, TEACH, TI, SI = "authentication", "teach", "teach-internal", "students-internal"
CALLERS = ("anonymous", "student", "other_student", "unverified_teacher", "teacher", "owner", "admin", "service")

# Outcomes.
OK, NULL, HIDDEN, TRUE, FALSE = "ok", "null", "hidden", "true", "false"
PUBLIC, FULL = "public", "full"  # without / with the private fields
H200, H201, H401, H403 = "200", "201", "401 UNAUTHENTICATED", "403 FORBIDDEN"  # REST: HTTP status (and code)
UNAUTH, FORBID, NOTFOUND, BAD, CONFLICT = "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "BAD_USER_INPUT", "CONFLICT"

GATED_CONTENT, PREVIEW_CONTENT = "the secret", "free sample"


@dataclass
class Cast:
    """The module's world: the callers and the objects the rows are about."""

    world: World
    people: dict[str, Actor]
    profile_of: dict[str, str]  # caller -> their teacher profile id
    student_of: dict[str, str]  # caller -> their students-internal Student id
    course: str  # the owner's published free course; only "student" is enrolled in it
    draft: str  # the owner's unpublished course
    gated_lesson: str  # a non-preview lesson of `course`
    preview_lesson: str  # a preview lesson of `course`
    hidden_owner: Actor  # owner of an unverified profile, plays "owner" for it
    hidden_profile: str

    def token(self, who: str) -> str | None:
        """The bearer token of a caller (None for anonymous)."""
        if who == "anonymous":
            return None
        if who == "service":
            return self.world.service_token("ecommerce")
        return self.people[who].token

    def user_id(self, who: str) -> str | None:
        """The user id of a caller (None for anonymous and service)."""
        return self.people[who].user_id if who in self.people else None

    async def gql(self, plugin: str, query: str, variables: dict[str, Any] | None = None, *, who: str) -> Any:
        """The response body of an operation run as ``who``."""
        return await self.world.gql(plugin, query, variables, token=self.token(who))

    async def ok(self, plugin: str, query: str, variables: dict[str, Any] | None = None, *, who: str) -> Any:
        """The data of an operation that must succeed."""
        body = await self.gql(plugin, query, variables, who=who)
        assert not body.get("errors"), body
        return body["data"]

    async def course_of_owner(self, *, price: int = 0, published: bool = True) -> str:
        """A fresh course of the owner."""
        return await self.world.course(self.people["owner"], price=price, published=published)

    async def fresh(self, who: str) -> Actor:
        """A new user of the caller's kind (for rows that change the caller, e.g. createTeacherProfile)."""
        if who == "admin":
            return await self.world.admin()
        assert who in ("student", "other_student"), who
        return await self.world.user(who)

    async def enrolled(self, student_id: str, course_id: str) -> bool:
        """Whether a student is enrolled in a course, asked as the service."""
        query = "query Q($s: ID!, $c: ID!) { isEnrolled(studentId: $s, courseId: $c) }"
        return bool((await self.ok(SI, query, {"s": student_id, "c": course_id}, who="service"))["isEnrolled"])

    async def roles(self, user_id: str) -> list[str]:
        """A user's stored roles, asked as the service."""
        data = await self.ok(AUTH, "query U($id: ID!) { user(id: $id) { roles } }", {"id": user_id}, who="service")
        return list(data["user"]["roles"])


def refusal(body: dict[str, Any]) -> str | None:
    """The one error code of a refused operation (whose data must be empty), else None."""
    codes = error_codes(body)
    if not codes:
        return None
    assert len(codes) == 1, body
    assert not any((body.get("data") or {}).values()), body
    if codes[0] == BAD:  # API.md: extensions.field names the argument
        assert body["errors"][0]["extensions"].get("field"), body
    return codes[0]


async def login(world: World, actor: Actor) -> Actor:
    """A fresh token for ``actor`` (it carries the roles granted since registration)."""
    query = "mutation L($e: String!, $p: String!) { login(email: $e, password: $p) { token user { id roles } } }"
    body = await world.gql(AUTH, query, {"e": actor.email, "p": "correct horse battery"})
    assert "errors" not in body, body
    return Actor(actor.user_id, body["data"]["login"]["token"], actor.email)


ENROLL_ME = "mutation E($c: ID!) { enrollMe(courseId: $c) { id studentId courseId } }"


async def build_cast(world: World) -> Cast:
    """Register the callers, their profiles, the courses and the student's enrollment."""
    admin = await world.admin()
    student = await world.user("student")
    other = await world.user("other")
    unverified, unverified_profile = await world.teacher(verified=False)
    teacher, teacher_profile = await world.teacher()
    hidden_owner, hidden_profile = await world.teacher(verified=False)

    owner = await world.user("owner")
    body = await world.gql(
        TEACH,
        'mutation { createTeacherProfile(bio: "Owner", subjects: ["art"], payoutEmail: "pay@example.com") { id } }',
        token=owner.token,
    )
    owner_profile = body["data"]["createTeacherProfile"]["id"]
    body = await world.gql(
        TEACH, "mutation V($id: ID!) { verifyTeacherProfile(id: $id) { id } }", {"id": owner_profile}, token=admin.token
    )
    assert "errors" not in body, body
    # Verified teachers log in again: their tokens now carry the "teacher" role, as in production.
    owner, teacher = await login(world, owner), await login(world, teacher)

    course = await world.course(owner, price=0)
    body = await world.gql(
        TI, 'mutation M($c: ID!) { createModule(courseId: $c, title: "M1") { id } }', {"c": course}, token=owner.token
    )
    module = body["data"]["createModule"]["id"]
    lessons = {}
    for title, content, preview in (("Intro", PREVIEW_CONTENT, True), ("Deep", GATED_CONTENT, False)):
        body = await world.gql(
            TI,
            "mutation L($m: ID!, $t: String!, $c: String, $p: Boolean) {"
            " createLesson(moduleId: $m, title: $t, content: $c, preview: $p) { id } }",
            {"m": module, "t": title, "c": content, "p": preview},
            token=owner.token,
        )
        lessons[preview] = body["data"]["createLesson"]["id"]
    draft = await world.course(owner, price=0, published=False)
    other_course = await world.course(owner, price=0)

    students = {}
    for who, actor, course_id in (("student", student, course), ("other_student", other, other_course)):
        body = await world.gql(SI, ENROLL_ME, {"c": course_id}, token=actor.token)
        assert "errors" not in body, body
        students[who] = body["data"]["enrollMe"]["studentId"]

    return Cast(
        world=world,
        people={
            "student": student,
            "other_student": other,
            "unverified_teacher": unverified,
            "teacher": teacher,
            "owner": owner,
            "admin": admin,
        },
        profile_of={"unverified_teacher": unverified_profile, "teacher": teacher_profile, "owner": owner_profile},
        student_of=students,
        course=course,
        draft=draft,
        gated_lesson=lessons[False],
        preview_lesson=lessons[True],
        hidden_owner=hidden_owner,
        hidden_profile=hidden_profile,
    )


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def cast(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cast]:
    """One running app and cast for the whole module."""
    async with open_world(make_settings(Path(tmp_path_factory.mktemp("data")))) as world:
        yield await build_cast(world)


Check = Callable[[Cast, str], Awaitable[str]]

# --- authentication -------------------------------------------------------------------------------


async def me(cast: Cast, who: str) -> str:
    """me: the caller's own user."""
    data = await cast.ok(AUTH, "{ me { id email } }", who=who)
    if data["me"] is None:
        return NULL
    assert data["me"] == {"id": cast.user_id(who), "email": cast.people[who].email}
    return OK


async def user(cast: Cast, who: str) -> str:
    """user(id) of the student."""
    target = cast.people["student"]
    body = await cast.gql(AUTH, "query U($id: ID!) { user(id: $id) { id email } }", {"id": target.user_id}, who=who)
    if code := refusal(body):
        return code
    assert body["data"]["user"] == {"id": target.user_id, "email": target.email}
    return OK


async def grant_role(cast: Cast, who: str) -> str:
    """grantRole(userId, "teacher") for a fresh user."""
    target = await cast.world.user("grantee")
    query = 'mutation G($u: ID!) { grantRole(userId: $u, role: "teacher") { id roles } }'
    body = await cast.gql(AUTH, query, {"u": target.user_id}, who=who)
    if code := refusal(body):
        assert "teacher" not in await cast.roles(target.user_id)
        return code
    assert body["data"]["grantRole"]["id"] == target.user_id
    assert "teacher" in body["data"]["grantRole"]["roles"]
    assert "teacher" in await cast.roles(target.user_id)
    return OK


def update_user_teacher_profile(profile_of: str | None) -> Check:
    """updateUserTeacherProfile(the profile of ``profile_of``, or an unknown id): only its owner may link it."""

    async def check(cast: Cast, who: str) -> str:
        profile = cast.profile_of[profile_of] if profile_of else "no-such-profile"
        query = "mutation L($p: ID!) { updateUserTeacherProfile(teacherProfileId: $p) { id teacherProfileId } }"
        body = await cast.gql(AUTH, query, {"p": profile}, who=who)
        code = refusal(body)
        if who in cast.people:  # the caller's link is the profile they own (or none), before and after
            linked = (await cast.ok(AUTH, "{ me { teacherProfileId } }", who=who))["me"]["teacherProfileId"]
            assert linked == cast.profile_of.get(who)
        if code:
            return code
        assert body["data"]["updateUserTeacherProfile"] == {"id": cast.user_id(who), "teacherProfileId": profile}
        return OK

    return check


async def users_by_ids(cast: Cast, who: str) -> str:
    """usersByIds([the student, an unknown id]): for services and admins (byway audit)."""
    query = "query U($ids: [ID!]!) { usersByIds(ids: $ids) { id } }"
    body = await cast.gql(AUTH, query, {"ids": [cast.people["student"].user_id, "no-such-user"]}, who=who)
    if code := refusal(body):
        return code
    assert body["data"]["usersByIds"] == [{"id": cast.people["student"].user_id}, None]
    return OK


# --- teach ----------------------------------------------------------------------------------------

MY_PROFILE = "{ myTeacherProfile { id userId verified } }"


async def create_teacher_profile(cast: Cast, who: str) -> str:
    """createTeacherProfile: callers without a profile play a fresh user of their kind."""
    token = cast.token(who)
    actor: Actor | None = cast.people.get(who)
    if who in ("student", "other_student", "admin"):
        actor = await cast.fresh(who)
        token = actor.token
    query = 'mutation { createTeacherProfile(bio: "Hello", subjects: ["x"]) { id userId verified } }'
    body = await cast.world.gql(TEACH, query, token=token)
    code = refusal(body)
    if code:
        if who in cast.profile_of:  # still exactly the one profile they had
            mine = (await cast.world.gql(TEACH, MY_PROFILE, token=token))["data"]["myTeacherProfile"]
            assert mine["id"] == cast.profile_of[who]
        return code
    assert actor is not None
    created = body["data"]["createTeacherProfile"]
    assert created["userId"] == actor.user_id and created["verified"] is False
    linked = (await cast.world.gql(AUTH, "{ me { teacherProfileId } }", token=token))["data"]["me"]
    assert linked == {"teacherProfileId": created["id"]}
    return OK


async def verify_teacher_profile(cast: Cast, who: str) -> str:
    """verifyTeacherProfile of a fresh unverified profile ("owner" is that profile's owner)."""
    owner, profile = await cast.world.teacher(verified=False)
    token = owner.token if who == "owner" else cast.token(who)
    query = "mutation V($id: ID!) { verifyTeacherProfile(id: $id) { id verified } }"
    body = await cast.world.gql(TEACH, query, {"id": profile}, token=token)
    seen = await cast.ok(
        TEACH, "query P($id: ID!) { teacherProfile(id: $id) { verified } }", {"id": profile}, who="service"
    )
    if code := refusal(body):
        assert seen["teacherProfile"] == {"verified": False}
        assert "teacher" not in await cast.roles(owner.user_id)
        return code
    assert body["data"]["verifyTeacherProfile"] == {"id": profile, "verified": True}
    assert seen["teacherProfile"] == {"verified": True}
    assert "teacher" in await cast.roles(owner.user_id)  # granted by teach through authentication.grantRole
    return OK


async def unverified_profile(cast: Cast, who: str) -> str:
    """teacherProfile(id) of an unverified profile ("owner" is its owner)."""
    token = cast.hidden_owner.token if who == "owner" else cast.token(who)
    query = "query P($id: ID!) { teacherProfile(id: $id) { id userId verified } }"
    body = await cast.world.gql(TEACH, query, {"id": cast.hidden_profile}, token=token)
    assert not body.get("errors"), body
    if body["data"]["teacherProfile"] is None:
        return NULL
    assert body["data"]["teacherProfile"] == {
        "id": cast.hidden_profile,
        "userId": cast.hidden_owner.user_id,
        "verified": False,
    }
    return OK


async def verified_profile_private_fields(cast: Cast, who: str) -> str:
    """teacherProfile(id) of the owner's verified profile: public to all, payoutEmail only to some."""
    query = "query P($id: ID!) { teacherProfile(id: $id) { id verified payoutEmail } }"
    data = await cast.ok(TEACH, query, {"id": cast.profile_of["owner"]}, who=who)
    profile = data["teacherProfile"]
    assert profile["id"] == cast.profile_of["owner"] and profile["verified"] is True
    return {None: PUBLIC, "pay@example.com": FULL}[profile["payoutEmail"]]


async def my_teacher_profile(cast: Cast, who: str) -> str:
    """myTeacherProfile: the caller's own profile."""
    body = await cast.gql(TEACH, MY_PROFILE, who=who)
    if code := refusal(body):
        return code
    mine = body["data"]["myTeacherProfile"]
    if mine is None:
        assert who not in cast.profile_of
        return NULL
    assert mine["id"] == cast.profile_of[who] and mine["userId"] == cast.user_id(who)
    return OK


async def teacher_profiles_by_ids(cast: Cast, who: str) -> str:
    """teacherProfilesByIds([an unverified profile, the owner's, an unknown id]): services and admins."""
    ids = [cast.hidden_profile, cast.profile_of["owner"], "no-such-profile"]
    body = await cast.gql(
        TEACH, "query P($ids: [ID!]!) { teacherProfilesByIds(ids: $ids) { id verified } }", {"ids": ids}, who=who
    )
    if code := refusal(body):
        return code
    assert body["data"]["teacherProfilesByIds"] == [
        {"id": cast.hidden_profile, "verified": False},
        {"id": cast.profile_of["owner"], "verified": True},
        None,
    ]
    return OK


# --- teach-internal -------------------------------------------------------------------------------

COURSE = "query C($id: ID!) { course(id: $id) { id title published modules { id lessons { id } } } }"


async def seen_by_service(cast: Cast, course_id: str) -> Any:
    """The course as the service sees it (null once deleted)."""
    return (await cast.ok(TI, COURSE, {"id": course_id}, who="service"))["course"]


async def create_course(cast: Cast, who: str) -> str:
    """createCourse: a verified teacher profile of the caller's own is required."""
    query = 'mutation { createCourse(title: "Mine", priceCents: 100, currency: "EUR") { id teacherId published } }'
    body = await cast.gql(TI, query, who=who)
    if code := refusal(body):
        return code
    created = body["data"]["createCourse"]
    assert created["teacherId"] == cast.user_id(who) and created["published"] is False
    assert (await seen_by_service(cast, created["id"]))["title"] == "Mine"
    return OK


async def update_course(cast: Cast, who: str) -> str:
    """updateCourse(title, published) of a fresh unpublished course."""
    course_id = await cast.course_of_owner(published=False)
    query = 'mutation U($id: ID!) { updateCourse(id: $id, title: "Changed", published: true) { id title published } }'
    body = await cast.gql(TI, query, {"id": course_id}, who=who)
    stored = await seen_by_service(cast, course_id)
    if code := refusal(body):
        assert stored["title"] != "Changed" and stored["published"] is False
        return code
    assert body["data"]["updateCourse"] == {"id": course_id, "title": "Changed", "published": True}
    assert stored["title"] == "Changed" and stored["published"] is True
    return OK


async def create_module(cast: Cast, who: str) -> str:
    """createModule in a fresh course."""
    course_id = await cast.course_of_owner()
    query = 'mutation M($c: ID!) { createModule(courseId: $c, title: "Module") { id courseId } }'
    body = await cast.gql(TI, query, {"c": course_id}, who=who)
    modules = (await seen_by_service(cast, course_id))["modules"]
    if code := refusal(body):
        assert modules == []
        return code
    assert body["data"]["createModule"]["courseId"] == course_id
    assert [m["id"] for m in modules] == [body["data"]["createModule"]["id"]]
    return OK


async def create_lesson(cast: Cast, who: str) -> str:
    """createLesson in a fresh module of a fresh course."""
    course_id = await cast.course_of_owner()
    module = await cast.ok(
        TI, 'mutation M($c: ID!) { createModule(courseId: $c, title: "M") { id } }', {"c": course_id}, who="owner"
    )
    module_id = module["createModule"]["id"]
    query = 'mutation L($m: ID!) { createLesson(moduleId: $m, title: "L", content: "c") { id moduleId } }'
    body = await cast.gql(TI, query, {"m": module_id}, who=who)
    lessons = (await seen_by_service(cast, course_id))["modules"][0]["lessons"]
    if code := refusal(body):
        assert lessons == []
        return code
    assert body["data"]["createLesson"]["moduleId"] == module_id
    assert [lesson["id"] for lesson in lessons] == [body["data"]["createLesson"]["id"]]
    return OK


DELETE_COURSE = "mutation D($id: ID!) { deleteCourse(id: $id) }"


async def delete_course(cast: Cast, who: str) -> str:
    """deleteCourse of a fresh course nothing refers to."""
    course_id = await cast.course_of_owner()
    body = await cast.gql(TI, DELETE_COURSE, {"id": course_id}, who=who)
    stored = await seen_by_service(cast, course_id)
    if code := refusal(body):
        assert stored is not None
        return code
    assert body["data"] == {"deleteCourse": True} and stored is None
    return OK


async def delete_enrolled_course(cast: Cast, who: str) -> str:
    """deleteCourse of a fresh course with one enrollment (relation 6: restrict)."""
    course_id = await cast.course_of_owner()
    await cast.ok(
        SI,
        "mutation E($s: ID!, $c: ID!) { enrollStudent(studentId: $s, courseId: $c) { id } }",
        {"s": cast.student_of["other_student"], "c": course_id},
        who="service",
    )
    body = await cast.gql(TI, DELETE_COURSE, {"id": course_id}, who=who)
    assert await seen_by_service(cast, course_id) is not None
    code = refusal(body)
    assert code is not None, body
    if code == CONFLICT:
        assert body["errors"][0]["extensions"]["references"] == [
            {"plugin": "students-internal", "type": "Enrollment", "field": "courseId", "count": 1}
        ]
    return code


async def unpublished_course(cast: Cast, who: str) -> str:
    """course(id) of the owner's unpublished course."""
    data = await cast.ok(TI, "query C($id: ID!) { course(id: $id) { id published } }", {"id": cast.draft}, who=who)
    if data["course"] is None:
        return NULL
    assert data["course"] == {"id": cast.draft, "published": False}
    return OK


async def gated_lesson_content(cast: Cast, who: str) -> str:
    """Lesson.content of a non-preview lesson (the preview's content is checked to be visible to all)."""
    query = "query C($id: ID!) { course(id: $id) { modules { lessons { id content } } } }"
    data = await cast.ok(TI, query, {"id": cast.course}, who=who)
    contents = {lesson["id"]: lesson["content"] for lesson in data["course"]["modules"][0]["lessons"]}
    assert contents[cast.preview_lesson] == PREVIEW_CONTENT
    return {GATED_CONTENT: OK, None: HIDDEN}[contents[cast.gated_lesson]]


async def course_is_enrolled(cast: Cast, who: str) -> str:
    """Course.isEnrolled of the course only "student" is enrolled in."""
    data = await cast.ok(TI, "query C($id: ID!) { course(id: $id) { isEnrolled } }", {"id": cast.course}, who=who)
    return TRUE if data["course"]["isEnrolled"] else FALSE


# --- students-internal ----------------------------------------------------------------------------


async def my_student_id(cast: Cast, token: str | None) -> str | None:
    """The students-internal Student id of the token's user (None when there is none)."""
    data = (await cast.world.gql(SI, "{ myStudent { id } }", token=token))["data"]["myStudent"]
    return data["id"] if data else None


def enroll_me(price: int) -> Check:
    """enrollMe in a fresh published course of that price."""

    async def check(cast: Cast, who: str) -> str:
        course_id = await cast.course_of_owner(price=price)
        body = await cast.gql(SI, ENROLL_ME, {"c": course_id}, who=who)
        student = await my_student_id(cast, cast.token(who)) if who in cast.people else None
        if code := refusal(body):
            if student is not None:
                assert not await cast.enrolled(student, course_id)
            return code
        assert body["data"]["enrollMe"]["courseId"] == course_id
        assert body["data"]["enrollMe"]["studentId"] == student
        assert student is not None and await cast.enrolled(student, course_id)
        return OK

    return check


async def enroll_unknown(cast: Cast, who: str) -> str:
    """enrollMe in a course teach-internal does not know."""
    body = await cast.gql(SI, ENROLL_ME, {"c": "no-such-course"}, who=who)
    code = refusal(body)
    assert code is not None, body
    return code


async def enroll_student(cast: Cast, who: str) -> str:
    """enrollStudent(the student, a fresh paid course)."""
    course_id = await cast.course_of_owner(price=4900)
    student = cast.student_of["student"]
    query = "mutation E($s: ID!, $c: ID!) { enrollStudent(studentId: $s, courseId: $c) { studentId courseId } }"
    body = await cast.gql(SI, query, {"s": student, "c": course_id}, who=who)
    if code := refusal(body):
        assert not await cast.enrolled(student, course_id)
        return code
    assert body["data"]["enrollStudent"] == {"studentId": student, "courseId": course_id}
    assert await cast.enrolled(student, course_id)
    return OK


async def revoke_enrollment(cast: Cast, who: str) -> str:
    """revokeEnrollment(the student, a fresh course they were enrolled in by the service)."""
    course_id = await cast.course_of_owner(price=4900)
    student = cast.student_of["student"]
    variables = {"s": student, "c": course_id}
    await cast.ok(
        SI,
        "mutation E($s: ID!, $c: ID!) { enrollStudent(studentId: $s, courseId: $c) { id } }",
        variables,
        who="service",
    )
    body = await cast.gql(
        SI, "mutation R($s: ID!, $c: ID!) { revokeEnrollment(studentId: $s, courseId: $c) }", variables, who=who
    )
    if code := refusal(body):
        assert await cast.enrolled(student, course_id)
        return code
    assert body["data"] == {"revokeEnrollment": True}
    assert not await cast.enrolled(student, course_id)
    return OK


def about_the_student(query: str, verify: Callable[[Cast, Any], None]) -> Check:
    """A query about "student" ($s) and the shared course they are enrolled in ($c); ``verify`` checks its data."""

    async def check(cast: Cast, who: str) -> str:
        variables = {"s": cast.student_of["student"], "c": cast.course}
        body = await cast.gql(SI, query, {k: v for k, v in variables.items() if f"${k}" in query}, who=who)
        if code := refusal(body):
            return code
        verify(cast, body["data"])
        return OK

    return check


def _is_enrolled(cast: Cast, data: Any) -> None:
    assert data == {"isEnrolled": True}


def _enrollment_status(cast: Cast, data: Any) -> None:
    assert data["enrollmentStatus"] == [
        {"courseId": cast.course, "enrolled": True},
        {"courseId": "no-such-course", "enrolled": False},
    ]


def _enrolled_course_ids(cast: Cast, data: Any) -> None:
    assert cast.course in data["enrolledCourseIds"]


def _my_courses_of_student(cast: Cast, data: Any) -> None:
    # Oldest first: the shared course; other rows (enrollStudent, enrollMe) may have added more since.
    assert data["myCourses"][0] == {"studentId": cast.student_of["student"], "courseId": cast.course}
    assert {e["studentId"] for e in data["myCourses"]} == {cast.student_of["student"]}


def _student(cast: Cast, data: Any) -> None:
    assert data == {"student": {"id": cast.student_of["student"], "userId": cast.people["student"].user_id}}


def _course_enrollment_count(cast: Cast, data: Any) -> None:
    assert data == {"courseEnrollmentCount": 1}  # only "student" is ever enrolled in the shared course


is_enrolled = about_the_student("query Q($s: ID!, $c: ID!) { isEnrolled(studentId: $s, courseId: $c) }", _is_enrolled)
enrollment_status = about_the_student(
    'query Q($s: ID!, $c: ID!) { enrollmentStatus(courseIds: [$c, "no-such-course"], studentId: $s)'
    " { courseId enrolled } }",
    _enrollment_status,
)
enrolled_course_ids = about_the_student(
    "query Q($s: ID!) { enrolledCourseIds(first: 500, studentId: $s) }", _enrolled_course_ids
)
my_courses_of_student = about_the_student(
    "query Q($s: ID!) { myCourses(studentId: $s) { studentId courseId } }", _my_courses_of_student
)
student_by_id = about_the_student("query Q($s: ID!) { student(id: $s) { id userId } }", _student)
course_enrollment_count = about_the_student(
    "query Q($c: ID!) { courseEnrollmentCount(courseId: $c) }", _course_enrollment_count
)


async def students_by_ids(cast: Cast, who: str) -> str:
    """studentsByIds([the student, an unknown id]): services and admins."""
    ids = [cast.student_of["student"], "no-such-student"]
    body = await cast.gql(SI, "query S($ids: [ID!]!) { studentsByIds(ids: $ids) { id userId } }", {"ids": ids}, who=who)
    if code := refusal(body):
        return code
    assert body["data"]["studentsByIds"] == [
        {"id": cast.student_of["student"], "userId": cast.people["student"].user_id},
        None,
    ]
    return OK


async def is_enrolled_me(cast: Cast, who: str) -> str:
    """isEnrolledMe(the course only "student" is enrolled in)."""
    body = await cast.gql(SI, "query Q($c: ID!) { isEnrolledMe(courseId: $c) }", {"c": cast.course}, who=who)
    if code := refusal(body):
        return code
    return TRUE if body["data"]["isEnrolledMe"] else FALSE


async def my_courses(cast: Cast, who: str) -> str:
    """myCourses without studentId: the caller's own enrollments."""
    body = await cast.gql(SI, "{ myCourses { studentId courseId } }", who=who)
    if code := refusal(body):
        return code
    mine = body["data"]["myCourses"]
    student = await my_student_id(cast, cast.token(who))
    assert all(e["studentId"] == student for e in mine), mine
    if who == "student":  # oldest first; other rows may have enrolled them in more courses since
        assert mine[0]["courseId"] == cast.course
    return OK


async def register_student(cast: Cast, who: str) -> str:
    """registerStudent for a fresh user, who plays "student" (registering themself)."""
    fresh = await cast.world.user("newcomer")
    token = fresh.token if who == "student" else cast.token(who)
    query = 'mutation R($u: ID!) { registerStudent(userId: $u, displayName: "New") { id userId displayName } }'
    body = await cast.world.gql(SI, query, {"u": fresh.user_id}, token=token)
    stored = await my_student_id(cast, fresh.token)
    if code := refusal(body):
        assert stored is None
        return code
    created = body["data"]["registerStudent"]
    assert created["userId"] == fresh.user_id and created["displayName"] == "New" and created["id"] == stored
    return OK


async def post_students(cast: Cast, token: str | None, user_id: str) -> tuple[str, dict[str, Any]]:
    """POST /api/students-internal/students for ``user_id``: the outcome ("201", "403 FORBIDDEN", ...) and body."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await cast.world.app.client.post(
        "/api/students-internal/students", json={"userId": user_id, "displayName": "Rest"}, headers=headers
    )
    body: dict[str, Any] = response.json()
    if response.status_code >= 400:
        return f"{response.status_code} {error_codes(body)[0]}", body
    return str(response.status_code), body


async def rest_existing_student(cast: Cast, who: str) -> str:
    """REST POST /students for the student, who already has a Student."""
    result, body = await post_students(cast, cast.token(who), cast.people["student"].user_id)
    if result == "200":
        assert body["id"] == cast.student_of["student"]
    return result


async def rest_new_student(cast: Cast, who: str) -> str:
    """REST POST /students for a fresh user, who plays "student" (registering themself)."""
    fresh = await cast.world.user("restcomer")
    result, body = await post_students(cast, fresh.token if who == "student" else cast.token(who), fresh.user_id)
    stored = await my_student_id(cast, fresh.token)
    if result == "201":
        assert body["userId"] == fresh.user_id and body["id"] == stored
    else:
        assert stored is None
    return result


# --- the table ------------------------------------------------------------------------------------

#: operation -> the function that runs it as a caller and returns the outcome
CHECKS: dict[str, Check] = {
    "me": me,
    "user": user,
    "grantRole": grant_role,
    "usersByIds": users_by_ids,
    "updateUserTeacherProfile": update_user_teacher_profile("owner"),
    "updateUserTeacherProfile(unknown)": update_user_teacher_profile(None),
    "createTeacherProfile": create_teacher_profile,
    "verifyTeacherProfile": verify_teacher_profile,
    "teacherProfile(unverified)": unverified_profile,
    "teacherProfile(payoutEmail)": verified_profile_private_fields,
    "myTeacherProfile": my_teacher_profile,
    "teacherProfilesByIds": teacher_profiles_by_ids,
    "createCourse": create_course,
    "updateCourse": update_course,
    "createModule": create_module,
    "createLesson": create_lesson,
    "deleteCourse": delete_course,
    "deleteCourse(enrolled)": delete_enrolled_course,
    "course(unpublished)": unpublished_course,
    "Lesson.content(gated)": gated_lesson_content,
    "Course.isEnrolled": course_is_enrolled,
    "enrollMe(free)": enroll_me(0),
    "enrollMe(paid)": enroll_me(4900),
    "enrollMe(unknown)": enroll_unknown,
    "enrollStudent": enroll_student,
    "isEnrolled": is_enrolled,
    "isEnrolledMe": is_enrolled_me,
    "myCourses(studentId)": my_courses_of_student,
    "myCourses": my_courses,
    "enrollmentStatus": enrollment_status,
    "enrolledCourseIds": enrolled_course_ids,
    "registerStudent": register_student,
    "student": student_by_id,
    "studentsByIds": students_by_ids,
    "revokeEnrollment": revoke_enrollment,
    "courseEnrollmentCount": course_enrollment_count,
    "POST /students(existing)": rest_existing_student,
    "POST /students(new)": rest_new_student,
}

# fmt: off
#: operation -> the expected outcome for each caller, in CALLERS order
TABLE: dict[str, tuple[str, ...]] = {
    # operation                          anonymous student   other     unverif.  teacher   owner     admin     service
    # authentication
    "me":                                (NULL,     OK,       OK,       OK,       OK,       OK,       OK,       NULL),
    "user":                              (UNAUTH,   OK,       FORBID,   FORBID,   FORBID,   FORBID,   OK,       OK),
    "grantRole":                         (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   OK),
    "usersByIds":                        (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       OK),
    "updateUserTeacherProfile":          (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       FORBID,   FORBID),
    "updateUserTeacherProfile(unknown)": (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID),
    # teach
    "createTeacherProfile":              (UNAUTH,   OK,       OK,       CONFLICT, CONFLICT, CONFLICT, OK,       FORBID),
    "verifyTeacherProfile":              (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       FORBID),
    "teacherProfile(unverified)":        (NULL,     NULL,     NULL,     NULL,     NULL,     OK,       OK,       OK),
    "teacherProfile(payoutEmail)":       (PUBLIC,   PUBLIC,   PUBLIC,   PUBLIC,   PUBLIC,   FULL,     FULL,     FULL),
    "myTeacherProfile":                  (UNAUTH,   NULL,     NULL,     OK,       OK,       OK,       NULL,     FORBID),
    "teacherProfilesByIds":              (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       OK),
    # teach-internal
    "createCourse":                      (UNAUTH,   FORBID,   FORBID,   FORBID,   OK,       OK,       FORBID,   FORBID),
    "updateCourse":                      (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       FORBID,   FORBID),
    "createModule":                      (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       FORBID,   FORBID),
    "createLesson":                      (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       FORBID,   FORBID),
    "deleteCourse":                      (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       OK,       FORBID),
    "deleteCourse(enrolled)":            (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   CONFLICT, CONFLICT, FORBID),
    "course(unpublished)":               (NULL,     NULL,     NULL,     NULL,     NULL,     OK,       OK,       OK),
    "Lesson.content(gated)":             (HIDDEN,   OK,       HIDDEN,   HIDDEN,   HIDDEN,   OK,       OK,       OK),
    "Course.isEnrolled":                 (FALSE,    TRUE,     FALSE,    FALSE,    FALSE,    FALSE,    FALSE,    FALSE),
    # students-internal
    "enrollMe(free)":                    (UNAUTH,   OK,       OK,       OK,       OK,       OK,       OK,       FORBID),
    "enrollMe(paid)":                    (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID),
    "enrollMe(unknown)":                 (UNAUTH,   NOTFOUND, NOTFOUND, NOTFOUND, NOTFOUND, NOTFOUND, NOTFOUND, FORBID),
    "enrollStudent":                     (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       OK),
    "isEnrolled":                        (UNAUTH,   OK,       FORBID,   FORBID,   FORBID,   FORBID,   OK,       OK),
    "isEnrolledMe":                      (UNAUTH,   TRUE,     FALSE,    FALSE,    FALSE,    FALSE,    FALSE,    FORBID),
    "myCourses(studentId)":              (UNAUTH,   OK,       FORBID,   FORBID,   FORBID,   FORBID,   OK,       OK),
    "myCourses":                         (UNAUTH,   OK,       OK,       OK,       OK,       OK,       OK,       BAD),
    "enrollmentStatus":                  (UNAUTH,   OK,       FORBID,   FORBID,   FORBID,   FORBID,   OK,       OK),
    "enrolledCourseIds":                 (UNAUTH,   OK,       FORBID,   FORBID,   FORBID,   FORBID,   OK,       OK),
    "registerStudent":                   (UNAUTH,   OK,       FORBID,   FORBID,   FORBID,   FORBID,   OK,       OK),
    "student":                           (UNAUTH,   OK,       FORBID,   FORBID,   FORBID,   FORBID,   OK,       OK),
    "studentsByIds":                     (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       OK),
    "revokeEnrollment":                  (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       OK),
    "courseEnrollmentCount":             (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       OK),
    "POST /students(existing)":          (H401,     H200,     H403,     H403,     H403,     H403,     H200,     H200),
    "POST /students(new)":               (H401,     H201,     H403,     H403,     H403,     H403,     H201,     H201),
}
# fmt: on

#: The table flattened to (operation, caller, expected) rows, one test each: "enrollStudent-as-student", ...
ROWS = [
    pytest.param(CHECKS[operation], who, expected, id=f"{operation}-as-{who}")
    for operation, outcomes in TABLE.items()
    for who, expected in zip(CALLERS, outcomes, strict=True)
]
assert CHECKS.keys() == TABLE.keys()


@pytest.mark.parametrize(("check", "who", "expected"), ROWS)
async def test_permission(cast: Cast, check: Check, who: str, expected: str) -> None:
    """One cell of the table: the operation as this caller gives exactly the expected outcome."""
    assert await check(cast, who) == expected
