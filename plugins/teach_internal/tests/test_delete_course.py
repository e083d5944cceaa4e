"""Deletes apply the other plugins' declared on-delete policies, through the host (byway.cascade).

students-internal's enrollments restrict deleting a course; a third-party plugin (the test-only
``reviews``) cascades on courses and sets its lesson column to null on lessons, with nothing more
than its declarations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from byway.testing import FailingTransport
from tests.plugins import reviews

if TYPE_CHECKING:
    from conftest import World, WorldFactory

TI = "teach-internal"
SI = "students-internal"
DELETE = "mutation($id: ID!) { deleteCourse(id: $id) }"
DELETE_LESSON = "mutation($id: ID!) { deleteLesson(id: $id) }"
EXISTS = "query($id: ID!) { course(id: $id) { id } }"
ADD_REVIEW = "mutation($c: ID!, $l: ID, $t: String!) { addReview(courseId: $c, lessonId: $l, text: $t) { id } }"
REVIEWS = "query($c: ID!) { reviews(courseId: $c) { text lessonId } }"
COUNT_FIELD = "bywayRelationCount"


def enrollments(count: int) -> list[dict[str, object]]:
    return [{"plugin": SI, "type": "Enrollment", "field": "courseId", "count": count}]


async def test_delete_is_refused_while_students_are_enrolled(world: World) -> None:
    ids = await world.course_with_lessons(price=2500)
    enrollment = await world.enroll("student", ids["course"])
    await world.enroll("other_student", ids["course"])
    with world.app.host.observe_calls() as calls:
        error = await world.refused(TI, DELETE, {"id": ids["course"]}, as_="owner")
    assert error["code"] == "CONFLICT"
    assert error["references"] == enrollments(2)
    assert "2 students-internal Enrollment" in error["message"]
    # restrict relations are counted (enrollments, certificates) before anything is applied: nothing is
    assert {(c.target, c.operation, c.as_kind) for c in calls} == {(SI, "BywayRelationCount", "service")}
    assert (await world.refused(TI, DELETE, {"id": ids["course"]}, as_="admin"))["code"] == "CONFLICT"
    assert (await world.ok(TI, EXISTS, {"id": ids["course"]}))["course"] == {"id": ids["course"]}

    # once the enrollments are revoked (a refund), the course can go
    revoke = "mutation($s: ID!, $c: ID!) { revokeEnrollment(studentId: $s, courseId: $c) }"
    assert (await world.ok(SI, revoke, {"s": enrollment["studentId"], "c": ids["course"]}, as_="service"))[
        "revokeEnrollment"
    ] is True
    error = await world.refused(TI, DELETE, {"id": ids["course"]}, as_="owner")
    assert error["references"] == enrollments(1)
    other = (await world.ok(SI, "{ myStudent { id } }", as_="other_student"))["myStudent"]["id"]
    await world.ok(SI, revoke, {"s": other, "c": ids["course"]}, as_="admin")
    assert (await world.ok(TI, DELETE, {"id": ids["course"]}, as_="admin"))["deleteCourse"] is True
    assert (await world.ok(TI, EXISTS, {"id": ids["course"]}, as_="owner"))["course"] is None


async def test_a_third_party_plugin_gets_cascade_and_set_null_from_its_declarations(open_world: WorldFactory) -> None:
    async with open_world(reviews) as world:
        ids = await world.course_with_lessons()
        other = await world.course_with_lessons()
        for course, lesson, text in (
            (ids["course"], ids["gated"], "about a lesson"),
            (ids["course"], None, "about the course"),
            (other["course"], other["gated"], "another course"),
        ):
            await world.ok("reviews", ADD_REVIEW, {"c": course, "l": lesson, "t": text})

        # deleting a lesson: its reviews stay, without the lesson (set-null)
        assert (await world.ok(TI, DELETE_LESSON, {"id": ids["gated"]}, as_="owner"))["deleteLesson"] is True
        stored = (await world.ok("reviews", REVIEWS, {"c": ids["course"]}))["reviews"]
        assert sorted((r["text"], r["lessonId"]) for r in stored) == [
            ("about a lesson", None),
            ("about the course", None),
        ]

        # deleting the course: its reviews go (cascade); the other course's stay as they were
        assert (await world.ok(TI, DELETE, {"id": ids["course"]}, as_="owner"))["deleteCourse"] is True
        assert (await world.ok("reviews", REVIEWS, {"c": ids["course"]}))["reviews"] == []
        assert (await world.ok("reviews", REVIEWS, {"c": other["course"]}))["reviews"] == [
            {"text": "another course", "lessonId": other["gated"]}
        ]


async def test_a_failing_plugin_leaves_the_owners_row_and_is_named(open_world: WorldFactory) -> None:
    async with open_world(reviews) as world:
        ids = await world.course_with_lessons()
        await world.ok("reviews", ADD_REVIEW, {"c": ids["course"], "l": None, "t": "kept"})
        host = world.app.host
        with host.override_transport("reviews", FailingTransport(host.transport_for("reviews"))):
            error = await world.refused(TI, DELETE, {"id": ids["course"]}, as_="owner")
        assert (error["code"], error["plugin"]) == ("UPSTREAM_UNAVAILABLE", "reviews")
        assert "reviews" in error["message"]
        assert (await world.ok(TI, EXISTS, {"id": ids["course"]}))["course"] == {"id": ids["course"]}
        assert len((await world.ok("reviews", REVIEWS, {"c": ids["course"]}))["reviews"]) == 1
        # once reviews answers again, the same delete completes
        assert (await world.ok(TI, DELETE, {"id": ids["course"]}, as_="owner"))["deleteCourse"] is True
        assert (await world.ok("reviews", REVIEWS, {"c": ids["course"]}))["reviews"] == []


async def test_the_host_operations_are_for_the_target_plugins_service_only(open_world: WorldFactory) -> None:
    async with open_world(reviews) as world:
        ids = await world.course_with_lessons()
        await world.ok("reviews", ADD_REVIEW, {"c": ids["course"], "l": None, "t": "x"})
        count = f'query($i: [ID!]!) {{ {COUNT_FIELD}(relation: "reviews.Review.courseId", ids: $i) }}'
        apply = 'mutation($i: [ID!]!) { bywayRelationApply(relation: "reviews.Review.courseId", ids: $i) }'
        for who, code in (("anonymous", "UNAUTHENTICATED"), ("owner", "FORBIDDEN"), ("admin", "FORBIDDEN")):
            for document in (count, apply):
                body = await world.gql("reviews", document, {"i": [ids["course"]]}, as_=who)
                assert body["errors"][0]["extensions"]["code"] == code, (who, body)
        # another plugin's service (here: ecommerce's) may not either
        body = await world.gql("reviews", apply, {"i": [ids["course"]]}, as_="service")
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        token = world.app.host.tokens.service_token(TI)
        body = await world.app.gql("reviews", count, {"i": [ids["course"], "nope"]}, token=token)
        assert body["data"] == {COUNT_FIELD: 1}
        body = await world.app.gql(
            "reviews", count.replace("reviews.Review.courseId", "reviews.Nope.x"), {"i": ["a"]}, token=token
        )
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "relation"}
        for _ in range(2):  # idempotent: the second time there is nothing left to delete
            body = await world.app.gql("reviews", apply, {"i": [ids["course"]]}, token=token)
        assert body["data"] == {"bywayRelationApply": 0}
        assert (await world.ok("reviews", REVIEWS, {"c": ids["course"]}))["reviews"] == []


async def test_delete_is_refused_when_enrollments_cannot_be_counted(world: World) -> None:
    course = await world.create_course()
    host = world.app.host
    with host.override_transport(SI, FailingTransport(host.transport_for(SI))):
        error = await world.refused(TI, DELETE, {"id": course["id"]}, as_="owner")
    assert (error["code"], error["plugin"]) == ("UPSTREAM_UNAVAILABLE", SI)
    assert (await world.ok(TI, EXISTS, {"id": course["id"]}))["course"] == {"id": course["id"]}
