"""``Course.isEnrolled`` (one batched call to students-internal per request) and lesson content gating."""

from __future__ import annotations

from typing import TYPE_CHECKING

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


async def test_is_enrolled_makes_one_call_for_the_whole_catalogue(world: World) -> None:
    courses = [await world.course_with_lessons(price=0 if i % 2 else 1500) for i in range(6)]
    enrolled = {courses[1]["course"], courses[4]["course"]}
    for course_id in enrolled:
        await world.enroll("student", course_id)
    with world.app.host.observe_calls() as calls:
        data = await world.ok(TI, CATALOGUE, as_="student")
    assert {c["id"]: c["isEnrolled"] for c in data["courses"]} == {
        c["course"]: c["course"] in enrolled for c in courses
    }
    assert [(c.target, c.operation, c.as_kind) for c in calls] == [(SI, "EnrollmentStatus", "user")]
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
