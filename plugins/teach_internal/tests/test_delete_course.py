"""deleteCourse is restricted while students-internal (and ecommerce) hold references to the course."""

from __future__ import annotations

from typing import TYPE_CHECKING

from byway.testing import FailingTransport

if TYPE_CHECKING:
    from conftest import FakeEcommerce, World, WorldFactory

TI = "teach-internal"
SI = "students-internal"
DELETE = "mutation($id: ID!) { deleteCourse(id: $id) }"
EXISTS = "query($id: ID!) { course(id: $id) { id } }"


async def test_delete_is_refused_while_students_are_enrolled(world: World) -> None:
    ids = await world.course_with_lessons(price=2500)
    enrollment = await world.enroll("student", ids["course"])
    await world.enroll("other_student", ids["course"])
    with world.app.host.observe_calls() as calls:
        error = await world.refused(TI, DELETE, {"id": ids["course"]}, as_="owner")
    assert error["code"] == "CONFLICT"
    assert error["references"] == {"enrollments": 2}
    assert "2 enrollments" in error["message"]
    assert [(c.target, c.operation, c.as_kind) for c in calls] == [(SI, "CourseEnrollmentCount", "service")]
    assert (await world.refused(TI, DELETE, {"id": ids["course"]}, as_="admin"))["code"] == "CONFLICT"
    assert (await world.ok(TI, EXISTS, {"id": ids["course"]}))["course"] == {"id": ids["course"]}

    # once the enrollments are revoked (a refund), the course can go
    revoke = "mutation($s: ID!, $c: ID!) { revokeEnrollment(studentId: $s, courseId: $c) }"
    assert (await world.ok(SI, revoke, {"s": enrollment["studentId"], "c": ids["course"]}, as_="service"))[
        "revokeEnrollment"
    ] is True
    error = await world.refused(TI, DELETE, {"id": ids["course"]}, as_="owner")
    assert (error["references"], "1 enrollment " in error["message"]) == ({"enrollments": 1}, True)
    other = (await world.ok(SI, "{ myStudent { id } }", as_="other_student"))["myStudent"]["id"]
    await world.ok(SI, revoke, {"s": other, "c": ids["course"]}, as_="admin")
    assert (await world.ok(TI, DELETE, {"id": ids["course"]}, as_="admin"))["deleteCourse"] is True
    assert (await world.ok(TI, EXISTS, {"id": ids["course"]}, as_="owner"))["course"] is None


async def test_delete_asks_ecommerce_for_orders_when_it_is_loaded(
    open_world: WorldFactory, fake_ecommerce: FakeEcommerce
) -> None:
    async with open_world(fake_ecommerce) as world:
        course = await world.create_course(price=4900)
        fake_ecommerce.orders[course["id"]] = 3
        with world.app.host.observe_calls() as calls:
            error = await world.refused(TI, DELETE, {"id": course["id"]}, as_="owner")
        assert (error["code"], error["references"]) == ("CONFLICT", {"enrollments": 0, "orders": 3})
        assert [(c.target, c.operation, c.as_kind) for c in calls] == [
            (SI, "CourseEnrollmentCount", "service"),
            ("ecommerce", "CourseOrderCount", "service"),
        ]
        await world.enroll("student", course["id"])
        error = await world.refused(TI, DELETE, {"id": course["id"]}, as_="owner")
        assert error["references"] == {"enrollments": 1, "orders": 3}
        assert "1 enrollment and 3 orders" in error["message"]

        free = await world.create_course()
        assert (await world.ok(TI, DELETE, {"id": free["id"]}, as_="owner"))["deleteCourse"] is True


async def test_delete_without_ecommerce_does_not_call_it(world: World) -> None:
    course = await world.create_course()
    with world.app.host.observe_calls() as calls:
        assert (await world.ok(TI, DELETE, {"id": course["id"]}, as_="owner"))["deleteCourse"] is True
    assert [c.target for c in calls] == [SI]


async def test_delete_is_refused_when_enrollments_cannot_be_counted(world: World) -> None:
    course = await world.create_course()
    host = world.app.host
    with host.override_transport(SI, FailingTransport(host.transport_for(SI))):
        error = await world.refused(TI, DELETE, {"id": course["id"]}, as_="owner")
    assert error["code"] == "UPSTREAM_UNAVAILABLE"
    assert (await world.ok(TI, EXISTS, {"id": course["id"]}))["course"] == {"id": course["id"]}
