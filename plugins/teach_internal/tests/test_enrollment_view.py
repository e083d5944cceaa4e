"""``Course.isEnrolled`` (one batched call to students-internal per request) and lesson content gating."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest
from byway_teach_internal import loaders, store

from byway.db import PluginDatabase
from byway.testing import FailingTransport, error_codes

if TYPE_CHECKING:
    from conftest import World

TI = "teach-internal"
SI = "students-internal"
CATALOGUE = "{ courses(first: 100) { id isEnrolled } }"
CATALOGUE_WITH_CONTENT = """
{ courses(first: 100) { id isEnrolled modules { lessons { id preview content } } } }
"""
ONE = "query($id: ID!) { course(id: $id) { isEnrolled modules { lessons { id content } } } }"


@pytest.fixture(params=["after", "alongside"])
def asking(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """When a list asks for the caller's enrollments: after reading its courses (inline SQLite) or
    alongside, in a task started before (where reads wait; forced here on SQLite)."""
    if request.param == "alongside":
        force_alongside(monkeypatch)
    return str(request.param)


def force_alongside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PluginDatabase, "reads_wait", True)


async def test_is_enrolled_makes_one_call_for_the_whole_catalogue(world: World, asking: str) -> None:
    courses = [await world.course_with_lessons(price=0 if i % 2 else 1500) for i in range(6)]
    enrolled = {courses[1]["course"], courses[4]["course"]}
    for course_id in enrolled:
        await world.enroll("student", course_id)
    with world.app.host.observe_calls() as calls:
        data = await world.ok(TI, CATALOGUE, as_="student")
    assert {c["id"]: c["isEnrolled"] for c in data["courses"]} == {
        c["course"]: c["course"] in enrolled for c in courses
    }
    assert [(c.target, c.operation, c.as_kind) for c in calls] == [(SI, "EnrolledCourseIds", "user")]
    # content gating shares the same batch: still one call, with modules and lessons in the response
    with world.app.host.observe_calls() as calls:
        data = await world.ok(TI, CATALOGUE_WITH_CONTENT, as_="student")
    assert len(calls) == 1
    for course in data["courses"]:
        for module in course["modules"]:
            for lesson in module["lessons"]:
                expected = "free sample" if lesson["preview"] else ("secret" if course["isEnrolled"] else None)
                assert lesson["content"] == expected
    # content alone (no isEnrolled asked) is one call too
    with world.app.host.observe_calls() as calls:
        await world.ok(TI, "{ courses(first: 100) { modules { lessons { content } } } }", as_="other_student")
    assert len(calls) == 1


async def test_a_student_with_many_enrollments_is_answered_for_the_page_ids(
    world: World, asking: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loaders, "ENROLLED_IDS_ASKED", 3)  # 200 in production
    courses = [(await world.course_with_lessons())["course"] for _ in range(5)]
    for course_id in courses[:2]:
        await world.enroll("student", course_id)
    with world.app.host.observe_calls() as calls:
        data = await world.ok(TI, CATALOGUE_WITH_CONTENT, as_="student")
    assert [c["isEnrolled"] for c in data["courses"]] == [True, True, False, False, False]
    assert [c.operation for c in calls] == ["EnrolledCourseIds"]  # 2 < 3: all of them, one call
    await world.enroll("student", courses[4])
    with world.app.host.observe_calls() as calls:
        data = await world.ok(TI, CATALOGUE_WITH_CONTENT, as_="student")
    # 3 ids may not be all of them: the page's own ids are asked after the catalogue's statement
    assert [c.operation for c in calls] == ["EnrolledCourseIds", "EnrollmentStatus"]
    assert [c["isEnrolled"] for c in data["courses"]] == [True, True, False, False, True]
    contents = [[lesson["content"] for m in c["modules"] for lesson in m["lessons"]] for c in data["courses"]]
    assert [content[1] for content in contents] == ["secret", "secret", None, None, "secret"]


async def test_courses_by_ids_asks_for_the_requested_ids(world: World, asking: str) -> None:
    a, b = [(await world.course_with_lessons())["course"] for _ in range(2)]
    await world.enroll("student", b)
    query = "query($ids: [ID!]!) { coursesByIds(ids: $ids) { id isEnrolled } }"
    with world.app.host.observe_calls() as calls:
        data = await world.ok(TI, query, {"ids": [a, "no-such-course", b, a]}, as_="student")
    assert data["coursesByIds"] == [
        {"id": a, "isEnrolled": False},
        None,
        {"id": b, "isEnrolled": True},
        {"id": a, "isEnrolled": False},
    ]
    assert [c.operation for c in calls] == ["EnrollmentStatus"]


class _Stalled:
    """A transport whose calls never answer; counts the calls started and cancelled."""

    name = "http"

    def __init__(self) -> None:
        self.started = 0
        self.cancelled = 0

    async def send(self, *_: Any) -> tuple[int, dict[str, Any]]:
        self.started += 1
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        raise AssertionError("unreachable")


async def test_a_refused_page_cancels_the_enrollment_call_it_started(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    force_alongside(monkeypatch)
    await world.course_with_lessons()
    catalog_page = store.catalog_page

    async def waiting_catalog_page(*args: Any) -> Any:
        await asyncio.sleep(0.01)  # as on a database server: the call gets going meanwhile
        return await catalog_page(*args)

    monkeypatch.setattr(store, "catalog_page", waiting_catalog_page)
    stalled = _Stalled()
    with world.app.host.override_transport(SI, stalled):
        query = 'query { courses(first: 10, after: "no-such-course") { id isEnrolled } }'
        error = await asyncio.wait_for(world.refused(TI, query, as_="student"), 5)
        await asyncio.sleep(0)  # the cancelled call's task runs its cancellation
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "after")
    assert (stalled.started, stalled.cancelled) == (1, 1)


async def test_a_failed_enrollment_call_fails_the_list_closed(world: World, asking: str) -> None:
    ids = await world.course_with_lessons()
    await world.enroll("student", ids["course"])
    host = world.app.host
    with host.override_transport(SI, FailingTransport(host.transport_for(SI))):
        body = await world.gql(TI, CATALOGUE_WITH_CONTENT, as_="student")
    assert set(error_codes(body)) == {"UPSTREAM_UNAVAILABLE"}
    assert "secret" not in str(body)
    assert "students-internal" in body["errors"][0]["message"]


async def test_anonymous_and_service_callers_make_no_call(world: World) -> None:
    for _ in range(5):
        await world.course_with_lessons()
    for who in ("anonymous", "service"):
        with world.app.host.observe_calls() as calls:
            data = await world.ok(TI, CATALOGUE_WITH_CONTENT, as_=who)
        assert calls == []
        assert len(data["courses"]) == 5
        assert all(c["isEnrolled"] is False for c in data["courses"])
        contents = [lesson["content"] for c in data["courses"] for m in c["modules"] for lesson in m["lessons"]]
        # anonymous callers see previews only; services see everything
        expected = ["free sample", "secret"] * 5 if who == "service" else ["free sample", None] * 5
        assert contents == expected


async def test_owner_and_admin_see_content_without_asking_students_internal(world: World) -> None:
    ids = await world.course_with_lessons()
    for who in ("owner", "admin"):
        with world.app.host.observe_calls() as calls:
            data = await world.ok(
                TI,
                "query($id: ID!) { course(id: $id) { modules { lessons { content } } } }",
                {"id": ids["course"]},
                as_=who,
            )
        assert [lesson["content"] for lesson in data["course"]["modules"][0]["lessons"]] == ["free sample", "secret"]
        assert calls == []


async def test_content_is_revealed_by_enrolling_in_a_free_course(world: World) -> None:
    ids = await world.course_with_lessons()
    data = await world.ok(TI, ONE, {"id": ids["course"]}, as_="student")
    assert data["course"]["isEnrolled"] is False
    assert [lesson["content"] for lesson in data["course"]["modules"][0]["lessons"]] == ["free sample", None]
    await world.ok(SI, "mutation($c: ID!) { enrollMe(courseId: $c) { id } }", {"c": ids["course"]}, as_="student")
    data = await world.ok(TI, ONE, {"id": ids["course"]}, as_="student")
    assert data["course"]["isEnrolled"] is True
    assert [lesson["content"] for lesson in data["course"]["modules"][0]["lessons"]] == ["free sample", "secret"]
    # someone else's enrollment reveals nothing to another student
    data = await world.ok(TI, ONE, {"id": ids["course"]}, as_="other_student")
    assert [lesson["content"] for lesson in data["course"]["modules"][0]["lessons"]] == ["free sample", None]


async def test_students_internal_down_fails_closed(world: World) -> None:
    ids = await world.course_with_lessons()
    await world.enroll("student", ids["course"])
    host = world.app.host
    with host.override_transport(SI, FailingTransport(host.transport_for(SI))):
        body = await world.gql(TI, ONE, {"id": ids["course"]}, as_="student")
        assert set(error_codes(body)) == {"UPSTREAM_UNAVAILABLE"}
        # isEnrolled is non-null, so the error nulls the course; the gated content never leaks
        assert "secret" not in str(body)
        body = await world.gql(
            TI,
            "query($id: ID!) { course(id: $id) { title modules { lessons { content } } } }",
            {"id": ids["course"]},
            as_="student",
        )
        assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
        lessons = body["data"]["course"]["modules"][0]["lessons"]
        assert [lesson["content"] for lesson in lessons] == ["free sample", None]


async def test_create_course_when_teach_is_down_is_upstream_unavailable(world: World) -> None:
    host = world.app.host
    with host.override_transport("teach", FailingTransport(host.transport_for("teach"))):
        error = await world.refused(TI, 'mutation { createCourse(title: "T", priceCents: 0) { id } }', as_="owner")
    assert error["code"] == "UPSTREAM_UNAVAILABLE"
    assert (await world.ok(TI, "{ teachingCourses { id } }", as_="owner"))["teachingCourses"] == []
