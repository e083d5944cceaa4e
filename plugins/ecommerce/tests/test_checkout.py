"""createCheckout: buyer, validation, one batched call per neighbour, snapshots, refusals that create nothing."""

from __future__ import annotations

from typing import Any

import pytest
from byway_ecommerce.models import CANCELLED, PENDING, dev_sessions, order_items, orders
from ecommerce_shop import CANCEL, COURSE_ORDER_COUNT, CREATE_CHECKOUT, MY_ORDERS, SUCCESS, Shop

from byway.testing import error_codes


async def nothing_created(shop: Shop) -> None:
    assert await shop.count(orders) == 0
    assert await shop.count(order_items) == 0
    assert await shop.count(dev_sessions) == 0


async def test_checkout_snapshots_and_opens_a_session(shop: Shop) -> None:
    a = shop.courses.add_course("Algebra <1>", 1500)
    b = shop.courses.add_course("Biology", 2500)
    token = shop.user("u1")
    with shop.app.host.observe_calls() as calls:
        result = await shop.buy([a, b], token=token)

    assert result["sessionId"].startswith("cs_dev_")
    assert result["url"].endswith(f"/api/ecommerce/dev-checkout/{result['sessionId']}")
    (order,) = await shop.rows(orders)
    assert (order.id, order.status, order.total_cents, order.currency) == (result["orderId"], PENDING, 4000, "USD")
    assert order.provider_session_id == result["sessionId"]
    assert order.student_id == shop.students.student_of("u1")  # created on first checkout
    assert order.user_id == "u1"
    assert order.success_url == "https://shop.example/success?session_id={CHECKOUT_SESSION_ID}"
    items = sorted(await shop.rows(order_items), key=lambda r: r.position)
    assert [(i.course_id, i.title, i.price_cents, i.currency) for i in items] == [
        (a, "Algebra <1>", 1500, "USD"),
        (b, "Biology", 2500, "USD"),
    ]
    # One batched call per question: the buyer's student with what it owns, then the courses; a
    # first checkout also creates the student (as the user); a new student owns nothing.
    seen = [(c.target, c.operation, c.as_kind) for c in calls]
    assert seen == [
        ("students-internal", "Buyer", "user"),
        ("students-internal", "RegisterStudent", "user"),
        ("teach-internal", "CoursesByIds", "user"),
    ]


async def test_a_returning_buyers_checkout_of_ten_courses_makes_two_calls(shop: Shop) -> None:
    shop.students.add_student("u10")
    courses = [shop.courses.add_course(f"Course {i}", 1000 + i) for i in range(10)]
    with shop.app.host.observe_calls() as calls:
        result = await shop.buy(courses, token=shop.user("u10"))
    assert (await shop.rows(orders, orders.c.id == result["orderId"]))[0].total_cents == 10045
    assert [(c.target, c.operation, c.as_kind) for c in calls] == [
        ("students-internal", "Buyer", "user"),
        ("teach-internal", "CoursesByIds", "user"),
    ]


async def test_existing_student_is_reused_and_duplicates_count_once(shop: Shop) -> None:
    student = shop.students.add_student("u2")
    course = shop.courses.add_course(price=900)
    result = await shop.buy([course, course], token=shop.user("u2"))
    (order,) = await shop.rows(orders, orders.c.id == result["orderId"])
    assert order.student_id == student
    assert order.total_cents == 900
    assert await shop.count(order_items) == 1
    assert shop.students.calls["registerStudent"] == 0


async def test_a_service_names_an_existing_student(shop: Shop) -> None:
    student = shop.students.add_student(None)
    course = shop.courses.add_course(price=700)
    with shop.app.host.observe_calls() as calls:
        result = await shop.buy([course], student_id=student)
    (order,) = await shop.rows(orders, orders.c.id == result["orderId"])
    assert order.student_id == student and order.user_id is None
    assert ("teach-internal", "CoursesByIds", "service") in [(c.target, c.operation, c.as_kind) for c in calls]


async def test_anonymous_buyer_must_log_in_and_a_named_student_must_exist(shop: Shop) -> None:
    course = shop.courses.add_course()
    body = await shop.checkout([course])
    assert error_codes(body) == ["UNAUTHENTICATED"]
    student = shop.students.add_student(None)
    variables = {"items": [{"courseId": course}], "successUrl": SUCCESS, "cancelUrl": CANCEL, "studentId": student}
    body = await shop.app.gql("ecommerce", CREATE_CHECKOUT, variables)  # anonymous, naming a student
    assert error_codes(body) == ["UNAUTHENTICATED"]
    body = await shop.checkout([course], student_id="stu_missing")
    assert error_codes(body) == ["NOT_FOUND"]
    assert body["errors"][0]["extensions"]["field"] == "studentId"
    await nothing_created(shop)


async def test_user_cannot_buy_for_another_student_but_admin_can(shop: Shop) -> None:
    other = shop.students.add_student("someone-else")
    course = shop.courses.add_course()
    body = await shop.checkout([course], token=shop.user("u3"), student_id=other)
    assert error_codes(body) == ["FORBIDDEN"]
    await nothing_created(shop)
    result = await shop.buy([course], token=shop.user("admin-1", ("student", "admin")), student_id=other)
    (order,) = await shop.rows(orders, orders.c.id == result["orderId"])
    assert order.student_id == other and order.user_id == "someone-else"


async def test_service_caller_must_name_a_student(shop: Shop) -> None:
    course = shop.courses.add_course()
    service = shop.app.host.tokens.service_token("teach")
    body = await shop.checkout([course], token=service)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "studentId"


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"items": []}, "items"),
        ({"items": [{"courseId": f"c{i}"} for i in range(51)]}, "items"),
        ({"items": [{"courseId": "COURSE", "quantity": 2}]}, "items"),
        ({"items": [{"courseId": "COURSE", "quantity": 0}]}, "items"),
        ({"items": [{"courseId": "   "}]}, "items"),
        ({"items": [{"courseId": "x" * 65}]}, "items"),
        ({"successUrl": "ftp://shop.example/ok"}, "successUrl"),
        ({"successUrl": "/relative/path"}, "successUrl"),
        ({"successUrl": "javascript:alert(1)"}, "successUrl"),
        ({"successUrl": "https://shop.example/" + "a" * 2100}, "successUrl"),
        ({"cancelUrl": "https://shop example/cancel"}, "cancelUrl"),
        ({"cancelUrl": ""}, "cancelUrl"),
        ({"email": "not-an-email"}, "email"),
        ({"studentId": ""}, "studentId"),
    ],
)
async def test_invalid_input_is_refused_with_its_field(shop: Shop, variables: dict[str, Any], field: str) -> None:
    course = shop.courses.add_course()
    if "items" in variables:
        variables["items"] = [
            {**i, "courseId": course if i["courseId"] == "COURSE" else i["courseId"]} for i in variables["items"]
        ]
    body = await shop.checkout([course], token=shop.user(), **variables)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == field
    await nothing_created(shop)


async def test_success_url_keeps_its_query_and_placeholder(shop: Shop) -> None:
    course = shop.courses.add_course()
    body = await shop.checkout([course], token=shop.user(), successUrl="https://a.example/ok?x=1#top")
    (order,) = await shop.rows(orders, orders.c.id == body["data"]["createCheckout"]["orderId"])
    assert order.success_url == "https://a.example/ok?x=1&session_id={CHECKOUT_SESSION_ID}#top"
    course2 = shop.courses.add_course()
    own = "https://a.example/thanks/{CHECKOUT_SESSION_ID}"
    body = await shop.checkout([course2], token=shop.user(), successUrl=own)
    (order,) = await shop.rows(orders, orders.c.id == body["data"]["createCheckout"]["orderId"])
    assert order.success_url == own


async def test_unknown_and_unpublished_courses_are_not_found(shop: Shop) -> None:
    known = shop.courses.add_course()
    draft = shop.courses.add_course(published=False)
    token = shop.user()
    for missing in ("crs_does_not_exist", draft):
        body = await shop.checkout([known, missing], token=token)
        assert error_codes(body) == ["NOT_FOUND"]
        assert body["errors"][0]["extensions"]["courseId"] == missing
        assert missing in body["errors"][0]["message"]
    await nothing_created(shop)


async def test_already_enrolled_refuses_before_creating_anything(shop: Shop) -> None:
    student = shop.students.add_student("u4")
    owned = shop.courses.add_course("Owned course", 1200)
    fresh = shop.courses.add_course("Fresh course", 800)
    shop.students.enrollments.add((student, owned))
    body = await shop.checkout([fresh, owned], token=shop.user("u4"))
    assert error_codes(body) == ["ALREADY_ENROLLED"]
    ext = body["errors"][0]["extensions"]
    assert (ext["courseId"], ext["courseTitle"]) == (owned, "Owned course")
    assert shop.students.calls["enrollmentStatus"] == 1
    await nothing_created(shop)


async def test_mixed_currencies_and_free_carts_are_refused(shop: Shop) -> None:
    usd = shop.courses.add_course(price=1000, currency="USD")
    eur = shop.courses.add_course(price=1000, currency="EUR")
    free = shop.courses.add_course(price=0)
    token = shop.user()
    body = await shop.checkout([usd, eur], token=token)
    assert error_codes(body) == ["BAD_USER_INPUT"] and body["errors"][0]["extensions"]["field"] == "items"
    body = await shop.checkout([free], token=token)
    assert error_codes(body) == ["BAD_USER_INPUT"] and "enrollMe" in body["errors"][0]["message"]
    await nothing_created(shop)
    # A free course next to a paid one rides along (snapshotted at 0).
    result = await shop.buy([usd, free], token=token)
    (order,) = await shop.rows(orders, orders.c.id == result["orderId"])
    assert order.total_cents == 1000
    assert await shop.count(order_items) == 2


async def test_neighbour_down_gives_upstream_unavailable_and_nothing(shop: Shop) -> None:
    course = shop.courses.add_course()
    shop.courses.fail_all = True
    body = await shop.checkout([course], token=shop.user())
    assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
    shop.courses.fail_all = False
    shop.students.fail_all = True
    body = await shop.checkout([course], token=shop.user())
    assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
    await nothing_created(shop)


async def test_my_orders_lists_only_the_callers_orders(shop: Shop) -> None:
    course = shop.courses.add_course("Chemistry", 3000)
    mine = await shop.buy([course], token=shop.user("u5"), email="u5@example.com")
    await shop.buy([course], token=shop.user("u6"))

    body = await shop.app.gql("ecommerce", MY_ORDERS, token=shop.user("u5"))
    (order,) = body["data"]["myOrders"]
    assert order["id"] == mine["orderId"]
    assert (order["status"], order["totalCents"], order["currency"], order["email"]) == (
        PENDING,
        3000,
        "USD",
        "u5@example.com",
    )
    assert order["paidAt"] is None
    assert [(i["courseId"], i["title"], i["priceCents"]) for i in order["items"]] == [(course, "Chemistry", 3000)]

    body = await shop.app.gql("ecommerce", MY_ORDERS, token=shop.user("never-bought"))
    assert body["data"]["myOrders"] == []
    body = await shop.app.gql("ecommerce", MY_ORDERS)
    assert error_codes(body) == ["UNAUTHENTICATED"]
    body = await shop.app.gql("ecommerce", "{ myOrders(first: 0) { id } }", token=shop.user("u5"))
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_course_order_count_is_for_services_and_admins(shop: Shop) -> None:
    course = shop.courses.add_course()
    other = shop.courses.add_course()
    await shop.buy([course, other], token=shop.user())
    await shop.buy([course], token=shop.user())
    cancelled = await shop.buy([course], token=shop.user())
    async with shop.runtime.sessions() as session, session.begin():
        await session.execute(orders.update().where(orders.c.id == cancelled["orderId"]).values(status=CANCELLED))

    service = shop.app.host.tokens.service_token("teach-internal")
    body = await shop.app.gql("ecommerce", COURSE_ORDER_COUNT, {"c": course}, token=service)
    assert body["data"]["courseOrderCount"] == 2
    admin = shop.user("admin", ("student", "admin"))
    body = await shop.app.gql("ecommerce", COURSE_ORDER_COUNT, {"c": "crs_nothing"}, token=admin)
    assert body["data"]["courseOrderCount"] == 0
    body = await shop.app.gql("ecommerce", COURSE_ORDER_COUNT, {"c": course}, token=shop.user())
    assert error_codes(body) == ["FORBIDDEN"]
    body = await shop.app.gql("ecommerce", COURSE_ORDER_COUNT, {"c": course})
    assert error_codes(body) == ["UNAUTHENTICATED"]
