"""The permission table of the second round's learning operations (authoring, catalogue, progress).

Same callers and conventions as ``test_permissions.py`` (its docstring describes them): every row
runs the operation as each of eight callers with the real plugins and the real cross-plugin client,
must give exactly the expected outcome, and refusals are checked to have changed nothing.

* ``student`` is enrolled in the owner's shared course (and completed its one-lesson sibling, so it
  has a certificate); ``other_student`` is enrolled in another course only.
* ``service`` is ecommerce's service token. The host's ``bywayRelation*`` operations are for the
  *target* plugin's service only (here: teach-internal's), so ecommerce's is ``FORBIDDEN``; the
  teach-internal row is checked in ``test_relation_operations_answer_the_owners_service``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from byway_students_internal.models import lesson_progress
from sqlalchemy import select

from byway.testing import error_codes, make_settings

from .conftest import Actor, World, open_world

pytestmark = pytest.mark.asyncio(loop_scope="module")

TI, SI = "teach-internal", "students-internal"
CALLERS = ("anonymous", "student", "other_student", "unverified_teacher", "teacher", "owner", "admin", "service")
OK, NULL, HIDDEN, ABSENT = "ok", "null", "hidden", "absent"
UNAUTH, FORBID, NOTFOUND = "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND"
H200, H404 = "200", "404"

VIDEO = "https://videos.example/secret.mp4"
MODULE = 'mutation M($c: ID!) { createModule(courseId: $c, title: "M") { id } }'
LESSON = (
    "mutation L($m: ID!, $p: Boolean) {"
    f' createLesson(moduleId: $m, title: "L", content: "c", preview: $p, type: VIDEO, videoUrl: "{VIDEO}") {{ id }} }}'
)
UPDATE_PROGRESS = "mutation P($l: ID!) { updateProgress(lessonId: $l, completed: true) { lessonId completed } }"


@dataclass
class Cast:
    """The callers and the objects the rows are about."""

    world: World
    people: dict[str, Actor]
    course: str  # the owner's published course; only "student" is enrolled
    gated_lesson: str  # a non-preview video lesson of `course`
    finished: str  # a one-lesson course "student" completed
    certificate_code: str

    def token(self, who: str) -> str | None:
        if who == "anonymous":
            return None
        if who == "service":
            return self.world.service_token("ecommerce")
        return self.people[who].token

    async def gql(self, plugin: str, query: str, variables: dict[str, Any] | None = None, *, who: str) -> Any:
        return await self.world.gql(plugin, query, variables, token=self.token(who))

    async def ok(self, plugin: str, query: str, variables: dict[str, Any] | None = None, *, who: str) -> Any:
        body = await self.gql(plugin, query, variables, who=who)
        assert not body.get("errors"), body
        return body["data"]

    async def outline(self) -> tuple[str, str, list[str]]:
        """A fresh course of the owner with one module of two lessons: (course, module, lessons)."""
        course = await self.world.course(self.people["owner"])
        module = (await self.ok(TI, MODULE, {"c": course}, who="owner"))["createModule"]["id"]
        lessons = [(await self.ok(TI, LESSON, {"m": module}, who="owner"))["createLesson"]["id"] for _ in range(2)]
        return course, module, lessons

    async def stored(self, course: str) -> Any:
        """The course's outline as the service sees it."""
        query = "query C($id: ID!) { course(id: $id) { modules { id title lessons { id title } } } }"
        return (await self.ok(TI, query, {"id": course}, who="service"))["course"]


def refusal(body: dict[str, Any]) -> str | None:
    """The one error code of a refused operation (whose data must be empty), else None."""
    codes = error_codes(body)
    if not codes:
        return None
    assert len(codes) == 1, body
    assert not any((body.get("data") or {}).values()), body
    return codes[0]


async def enroll(world: World, actor: Actor, course: str) -> None:
    body = await world.gql(
        SI, "mutation E($c: ID!) { enrollMe(courseId: $c) { id } }", {"c": course}, token=actor.token
    )
    assert not body.get("errors"), body


async def build_cast(world: World) -> Cast:
    admin = await world.admin()
    student, other = await world.user("student"), await world.user("other")
    unverified, _ = await world.teacher(verified=False)
    teacher, _ = await world.teacher()
    owner, _ = await world.teacher()
    people = {"student": student, "other_student": other, "unverified_teacher": unverified}
    people |= {"teacher": teacher, "owner": owner, "admin": admin}
    cast = Cast(world, people, "", "", "", "")
    cast.course = await world.course(owner)
    module = (await cast.ok(TI, MODULE, {"c": cast.course}, who="owner"))["createModule"]["id"]
    await cast.ok(TI, LESSON, {"m": module, "p": True}, who="owner")
    cast.gated_lesson = (await cast.ok(TI, LESSON, {"m": module, "p": False}, who="owner"))["createLesson"]["id"]
    cast.finished = await world.course(owner)
    module = (await cast.ok(TI, MODULE, {"c": cast.finished}, who="owner"))["createModule"]["id"]
    only = (await cast.ok(TI, LESSON, {"m": module}, who="owner"))["createLesson"]["id"]
    for course in (cast.course, cast.finished):
        await enroll(world, student, course)
    await enroll(world, other, await world.course(owner))
    await cast.ok(SI, UPDATE_PROGRESS, {"l": only}, who="student")
    query = "query C($c: ID!) { certificate(courseId: $c) { code } }"
    cast.certificate_code = (await cast.ok(SI, query, {"c": cast.finished}, who="student"))["certificate"]["code"]
    return cast


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def cast(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cast]:
    async with open_world(make_settings(Path(tmp_path_factory.mktemp("data")))) as world:
        yield await build_cast(world)


Check = Callable[[Cast, str], Awaitable[str]]


# --- teach-internal: authoring ----------------------------------------------------------------------


def outline_change(query: str, variables: Callable[[str, str, list[str]], dict[str, Any]]) -> Check:
    """A change of a fresh outline; on refusal the stored outline must be as it was."""

    async def check(cast: Cast, who: str) -> str:
        course, module, lessons = await cast.outline()
        before = await cast.stored(course)
        body = await cast.gql(TI, query, variables(course, module, lessons), who=who)
        if code := refusal(body):
            assert await cast.stored(course) == before
            return code
        assert await cast.stored(course) != before
        return OK

    return check


update_module = outline_change(
    'mutation U($id: ID!) { updateModule(id: $id, title: "Renamed") { id } }', lambda c, m, ls: {"id": m}
)
delete_module = outline_change("mutation D($id: ID!) { deleteModule(id: $id) }", lambda c, m, ls: {"id": m})
update_lesson = outline_change(
    'mutation U($id: ID!) { updateLesson(id: $id, title: "Renamed", duration: 60) { id } }',
    lambda c, m, ls: {"id": ls[0]},
)
delete_lesson = outline_change("mutation D($id: ID!) { deleteLesson(id: $id) }", lambda c, m, ls: {"id": ls[0]})
reorder_lessons = outline_change(
    "mutation R($m: ID!, $ids: [ID!]!) { reorderLessons(moduleId: $m, ids: $ids) { id } }",
    lambda c, m, ls: {"m": m, "ids": list(reversed(ls))},
)


async def reorder_modules(cast: Cast, who: str) -> str:
    """reorderModules of a fresh course with two modules."""
    course, first, _ = await cast.outline()
    second = (await cast.ok(TI, MODULE, {"c": course}, who="owner"))["createModule"]["id"]
    query = "mutation R($c: ID!, $ids: [ID!]!) { reorderModules(courseId: $c, ids: $ids) { id } }"
    body = await cast.gql(TI, query, {"c": course, "ids": [second, first]}, who=who)
    stored = [m["id"] for m in (await cast.stored(course))["modules"]]
    if code := refusal(body):
        assert stored == [first, second]
        return code
    assert stored == [second, first]
    return OK


async def update_course_facets(cast: Cast, who: str) -> str:
    """updateCourse(category, difficulty, coverUrl) of a fresh course."""
    course = await cast.world.course(cast.people["owner"])
    query = """mutation U($id: ID!) {
      updateCourse(id: $id, category: "Maths", difficulty: ADVANCED, coverUrl: "https://img.example/c.png") { id }
    }"""
    body = await cast.gql(TI, query, {"id": course}, who=who)
    fields = "query C($id: ID!) { course(id: $id) { category difficulty coverUrl } }"
    stored = (await cast.ok(TI, fields, {"id": course}, who="service"))["course"]
    if code := refusal(body):
        assert stored == {"category": None, "difficulty": None, "coverUrl": None}
        return code
    assert stored == {"category": "Maths", "difficulty": "ADVANCED", "coverUrl": "https://img.example/c.png"}
    return OK


async def delete_lesson_with_progress(cast: Cast, who: str) -> str:
    """deleteLesson of a lesson "student" completed: on success its progress is gone in students-internal."""
    course, _module, lessons = await cast.outline()
    await enroll(cast.world, cast.people["student"], course)
    await cast.ok(SI, UPDATE_PROGRESS, {"l": lessons[0]}, who="student")
    body = await cast.gql(TI, "mutation D($id: ID!) { deleteLesson(id: $id) }", {"id": lessons[0]}, who=who)
    async with cast.world.app.host.plugins[SI].sessions() as session:
        left = (await session.execute(select(lesson_progress).where(lesson_progress.c.lesson_id == lessons[0]))).all()
    if code := refusal(body):
        assert len(left) == 1
        return code
    assert left == []
    return OK


# --- teach-internal: reading ------------------------------------------------------------------------


async def gated_video(cast: Cast, who: str) -> str:
    """Lesson.videoUrl of a non-preview lesson: gated exactly like content."""
    query = "query C($id: ID!) { course(id: $id) { modules { lessons { id videoUrl content } } } }"
    data = await cast.ok(TI, query, {"id": cast.course}, who=who)
    (lesson,) = [x for m in data["course"]["modules"] for x in m["lessons"] if x["id"] == cast.gated_lesson]
    assert (lesson["videoUrl"] is None) == (lesson["content"] is None)
    return HIDDEN if lesson["videoUrl"] is None else OK


async def lessons_by_ids(cast: Cast, who: str) -> str:
    """lessonsByIds([the gated lesson, an unknown id]): services only."""
    query = "query L($ids: [ID!]!) { lessonsByIds(ids: $ids) { id courseId videoUrl } }"
    body = await cast.gql(TI, query, {"ids": [cast.gated_lesson, "nope"]}, who=who)
    if code := refusal(body):
        return code
    assert body["data"]["lessonsByIds"] == [{"id": cast.gated_lesson, "courseId": cast.course, "videoUrl": VIDEO}, None]
    return OK


async def search_drafts(cast: Cast, who: str) -> str:
    """courses(search) and courseCount never show an unpublished course, whoever asks."""
    title = f"Unlisted zebra {who}"
    body = await cast.world.gql(
        TI,
        "mutation C($t: String!) { createCourse(title: $t, priceCents: 0) { id } }",
        {"t": title},
        token=cast.people["owner"].token,
    )
    assert not body.get("errors"), body
    data = await cast.ok(
        TI, "query S($s: String!) { courses(search: $s) { id } courseCount(search: $s) }", {"s": title}, who=who
    )
    assert data["courseCount"] == len(data["courses"])
    return ABSENT if not data["courses"] else OK


async def course_teacher(cast: Cast, who: str) -> str:
    """Course.teacher: public (name and bio of a verified teacher)."""
    data = await cast.ok(
        TI, "query C($id: ID!) { course(id: $id) { teacher { userId displayName bio } } }", {"id": cast.course}, who=who
    )
    teacher = data["course"]["teacher"]
    assert teacher == {"userId": cast.people["owner"].user_id, "displayName": "Test User", "bio": "I teach"}
    return OK


# --- students-internal ------------------------------------------------------------------------------


def update_progress(lesson: Callable[[Cast], str]) -> Check:
    """updateProgress(lesson, completed: true) as the caller; on refusal nothing is recorded."""

    async def check(cast: Cast, who: str) -> str:
        lesson_id = lesson(cast)
        body = await cast.gql(SI, UPDATE_PROGRESS, {"l": lesson_id}, who=who)
        if code := refusal(body):
            if who in cast.people and who != "student":
                mine = await cast.ok(SI, "{ myProgress { lessonId } }", who=who)
                assert lesson_id not in [p["lessonId"] for p in mine["myProgress"]]
            return code
        assert body["data"]["updateProgress"] == {"lessonId": lesson_id, "completed": True}
        return OK

    return check


async def my_progress(cast: Cast, who: str) -> str:
    """myProgress: the caller's own records."""
    body = await cast.gql(SI, "{ myProgress { lessonId completed } }", who=who)
    if code := refusal(body):
        return code
    return OK if body["data"]["myProgress"] else NULL


async def student_by_user_id(cast: Cast, who: str) -> str:
    """studentByUserId(the student's user id): services, admins, that user."""
    query = "query S($u: ID!) { studentByUserId(userId: $u) { userId } }"
    body = await cast.gql(SI, query, {"u": cast.people["student"].user_id}, who=who)
    if code := refusal(body):
        return code
    assert body["data"]["studentByUserId"] == {"userId": cast.people["student"].user_id}
    return OK


async def certificate(cast: Cast, who: str) -> str:
    """certificate(the finished course): the caller's own, null for callers who did not finish it."""
    query = "query C($c: ID!) { certificate(courseId: $c) { code courseId } }"
    body = await cast.gql(SI, query, {"c": cast.finished}, who=who)
    if code := refusal(body):
        return code
    found = body["data"]["certificate"]
    if found is None:
        return NULL
    assert found == {"code": cast.certificate_code, "courseId": cast.finished}
    return OK


def verify_certificate(known: bool) -> Check:
    """GET /certificates/<code>: public; only name, course title and date."""

    async def check(cast: Cast, who: str) -> str:
        token = cast.token(who)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        code = cast.certificate_code if known else "unknown-code"
        response = await cast.world.app.client.get(f"/api/students-internal/certificates/{code}", headers=headers)
        if response.status_code == 200:
            assert set(response.json()) == {"valid", "courseTitle", "studentName", "issuedAt"}
        return str(response.status_code)

    return check


def relation_operation(document: str) -> Check:
    """The host's service-only relation operations of students-internal (teach-internal's service only)."""

    async def check(cast: Cast, who: str) -> str:
        body = await cast.gql(SI, document, {"ids": [cast.course]}, who=who)
        code = refusal(body)
        assert code is not None, body
        return code

    return check


COUNT = 'query C($ids: [ID!]!) { bywayRelationCount(relation: "students-internal.Enrollment.courseId", ids: $ids) }'
APPLY = (
    'mutation A($ids: [ID!]!) { bywayRelationApply(relation: "students-internal.LessonProgress.courseId", ids: $ids) }'
)


async def test_relation_operations_answer_the_owners_service(cast: Cast) -> None:
    token = cast.world.app.host.tokens.service_token(TI)
    body = await cast.world.gql(SI, COUNT, {"ids": [cast.course, "nope"]}, token=token)
    assert body["data"] == {"bywayRelationCount": 1}  # "student" is enrolled in the shared course


# --- the table --------------------------------------------------------------------------------------

CHECKS: dict[str, Check] = {
    "updateCourse(facets)": update_course_facets,
    "updateModule": update_module,
    "deleteModule": delete_module,
    "reorderModules": reorder_modules,
    "updateLesson": update_lesson,
    "deleteLesson": delete_lesson,
    "deleteLesson(progress)": delete_lesson_with_progress,
    "reorderLessons": reorder_lessons,
    "Lesson.videoUrl(gated)": gated_video,
    "lessonsByIds": lessons_by_ids,
    "courses(search, unpublished)": search_drafts,
    "Course.teacher": course_teacher,
    "updateProgress(enrolled course)": update_progress(lambda cast: cast.gated_lesson),
    "updateProgress(unknown lesson)": update_progress(lambda cast: "no-such-lesson"),
    "myProgress": my_progress,
    "studentByUserId": student_by_user_id,
    "certificate": certificate,
    "GET /certificates(known)": verify_certificate(True),
    "GET /certificates(unknown)": verify_certificate(False),
    "bywayRelationCount": relation_operation(COUNT),
    "bywayRelationApply": relation_operation(APPLY),
}

# fmt: off
TABLE: dict[str, tuple[str, ...]] = {
    # operation                        anonymous student   other     unverif.  teacher   owner     admin     service
    "updateCourse(facets)":            (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       FORBID,   FORBID),
    "updateModule":                    (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       FORBID,   FORBID),
    "deleteModule":                    (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       OK,       FORBID),
    "reorderModules":                  (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       FORBID,   FORBID),
    "updateLesson":                    (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       FORBID,   FORBID),
    "deleteLesson":                    (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       OK,       FORBID),
    "deleteLesson(progress)":          (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       OK,       FORBID),
    "reorderLessons":                  (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   OK,       FORBID,   FORBID),
    "Lesson.videoUrl(gated)":          (HIDDEN,   OK,       HIDDEN,   HIDDEN,   HIDDEN,   OK,       OK,       OK),
    "lessonsByIds":                    (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   OK),
    "courses(search, unpublished)":    (ABSENT,   ABSENT,   ABSENT,   ABSENT,   ABSENT,   ABSENT,   ABSENT,   ABSENT),
    "Course.teacher":                  (OK,       OK,       OK,       OK,       OK,       OK,       OK,       OK),
    "updateProgress(enrolled course)": (UNAUTH,   OK,       FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID),
    "updateProgress(unknown lesson)":  (UNAUTH,   NOTFOUND, NOTFOUND, NOTFOUND, NOTFOUND, NOTFOUND, NOTFOUND, FORBID),
    "myProgress":                      (UNAUTH,   OK,       NULL,     NULL,     NULL,     NULL,     NULL,     FORBID),
    "studentByUserId":                 (UNAUTH,   OK,       FORBID,   FORBID,   FORBID,   FORBID,   OK,       OK),
    "certificate":                     (UNAUTH,   OK,       NULL,     NULL,     NULL,     NULL,     NULL,     FORBID),
    "GET /certificates(known)":        (H200,     H200,     H200,     H200,     H200,     H200,     H200,     H200),
    "GET /certificates(unknown)":      (H404,     H404,     H404,     H404,     H404,     H404,     H404,     H404),
    "bywayRelationCount":              (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID),
    "bywayRelationApply":              (UNAUTH,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID,   FORBID),
}
# fmt: on

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
