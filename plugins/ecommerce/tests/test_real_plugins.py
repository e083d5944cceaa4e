"""End to end with the real first-party plugins: register → buy → pay → webhook → isEnrolledMe.

Skipped when the other plugins are not installed (ecommerce's own tests use fakes).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from byway_ecommerce import plugin as ecommerce_plugin
from byway_ecommerce.models import payments
from byway_ecommerce.state import state_of, webhook_secret
from ecommerce_shop import CREATE_CHECKOUT, MY_ORDERS, VERIFY_QUERY, event, press, settings_with, sign_payload
from sqlalchemy import select

from byway.settings import Settings
from byway.testing import TestApp, error_codes, running_app

authentication = pytest.importorskip("byway_authentication.plugin")
teach = pytest.importorskip("byway_teach.plugin")
teach_internal = pytest.importorskip("byway_teach_internal.plugin")
students_internal = pytest.importorskip("byway_students_internal.plugin")

REGISTER = """
mutation R($email: String!) {
  register(email: $email, password: "correct horse battery", firstName: "A", lastName: "B") { token user { id } }
}"""
CREATE_PROFILE = 'mutation { createTeacherProfile(bio: "I teach", subjects: ["math"]) { id } }'
VERIFY_PROFILE = "mutation V($id: ID!) { verifyTeacherProfile(id: $id) { verified } }"
CREATE_COURSE = """
mutation C($title: String!, $price: Int!) {
  createCourse(title: $title, description: "d", priceCents: $price, currency: "USD") { id }
}"""
PUBLISH = "mutation P($id: ID!) { updateCourse(id: $id, published: true) { id } }"
IS_ENROLLED_ME = "query Q($c: ID!) { isEnrolledMe(courseId: $c) }"
MY_STUDENT = "{ myStudent { id } }"
DELETE_COURSE = "mutation D($id: ID!) { deleteCourse(id: $id) }"


@pytest.fixture
async def app(byway_settings: Settings) -> AsyncIterator[TestApp]:
    plugins = [authentication, teach, teach_internal, students_internal, ecommerce_plugin]
    async with running_app(plugins, settings_with(byway_settings)) as running:
        yield running


async def ok(
    app: TestApp, plugin: str, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> Any:
    body = await app.gql(plugin, query, variables, token=token)
    assert "errors" not in body, body
    return body["data"]


async def register(app: TestApp, email: str) -> tuple[str, str]:
    data = await ok(app, "authentication", REGISTER, {"email": email})
    return data["register"]["user"]["id"], data["register"]["token"]


async def paid_course(app: TestApp, title: str, price: int, *, published: bool = True) -> tuple[str, str]:
    _, teacher = await register(app, f"{title.replace(' ', '').lower()}@example.com")
    profile = (await ok(app, "teach", CREATE_PROFILE, token=teacher))["createTeacherProfile"]["id"]
    admin = app.token("the-admin", ("student", "admin"))
    await ok(app, "teach", VERIFY_PROFILE, {"id": profile}, token=admin)
    course = (await ok(app, "teach-internal", CREATE_COURSE, {"title": title, "price": price}, token=teacher))[
        "createCourse"
    ]["id"]
    if published:
        await ok(app, "teach-internal", PUBLISH, {"id": course}, token=teacher)
    return course, teacher


def checkout_vars(course_ids: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "items": [{"courseId": c} for c in course_ids],
        "successUrl": "https://shop.example/ok",
        "cancelUrl": "https://shop.example/no",
        **extra,
    }


async def test_register_buy_pay_verify_enrolled_then_already_enrolled(app: TestApp) -> None:
    course, teacher = await paid_course(app, "Real Algebra", 2500)
    _, token = await register(app, "buyer@example.com")

    checkout = (await ok(app, "ecommerce", CREATE_CHECKOUT, checkout_vars([course]), token=token))["createCheckout"]
    response = await press(app.client, app.host.plugins["ecommerce"], checkout["url"], "pay")
    assert response.status_code == 303
    assert response.headers["location"] == f"https://shop.example/ok?session_id={checkout['sessionId']}"

    verified = await ok(app, "ecommerce", VERIFY_QUERY, {"s": checkout["sessionId"]}, token=token)
    assert verified["verifyCheckout"] == {"ok": True, "orderId": checkout["orderId"], "status": "PAID"}
    assert (await ok(app, "students-internal", IS_ENROLLED_ME, {"c": course}, token=token))["isEnrolledMe"] is True

    again = await app.gql("ecommerce", CREATE_CHECKOUT, checkout_vars([course]), token=token)
    assert error_codes(again) == ["ALREADY_ENROLLED"]
    assert again["errors"][0]["extensions"] == {
        "code": "ALREADY_ENROLLED",
        "courseId": course,
        "courseTitle": "Real Algebra",
    }
    (order,) = (await ok(app, "ecommerce", MY_ORDERS, token=token))["myOrders"]
    assert (order["status"], order["totalCents"], order["items"][0]["title"]) == ("PAID", 2500, "Real Algebra")

    # teach-internal asks ecommerce (and students-internal) before deleting a sold course.
    refused = await app.gql("teach-internal", DELETE_COURSE, {"id": course}, token=teacher)
    assert error_codes(refused) == ["CONFLICT"]
    references = refused["errors"][0]["extensions"]["references"]
    assert {"plugin": "ecommerce", "type": "OrderItem", "field": "courseId", "count": 1} in references


async def test_refund_revokes_the_real_enrollment(app: TestApp) -> None:
    course, _ = await paid_course(app, "Real Biology", 1000)
    _, token = await register(app, "refunded@example.com")
    checkout = (await ok(app, "ecommerce", CREATE_CHECKOUT, checkout_vars([course]), token=token))["createCheckout"]
    await press(app.client, app.host.plugins["ecommerce"], checkout["url"], "pay")
    await ok(app, "ecommerce", VERIFY_QUERY, {"s": checkout["sessionId"]}, token=token)
    assert (await ok(app, "students-internal", IS_ENROLLED_ME, {"c": course}, token=token))["isEnrolledMe"] is True

    runtime = app.host.plugins["ecommerce"]
    async with runtime.sessions() as session:
        (reference,) = (await session.execute(select(payments.c.provider_reference))).scalars()
    charge = {"id": "ch_real", "object": "charge", "payment_intent": reference, "refunded": True}
    payload = json.dumps(event("charge.refunded", charge))
    response = await app.client.post(
        "/api/ecommerce/stripe/webhook",
        content=payload,
        headers={"Stripe-Signature": sign_payload(payload, webhook_secret(runtime))},
    )
    assert response.json()["result"] == "refunded"
    for waker in list(state_of(runtime).wakers.values()):
        await waker.idle()
    assert (await ok(app, "students-internal", IS_ENROLLED_ME, {"c": course}, token=token))["isEnrolledMe"] is False


async def test_anonymous_refused_service_buyer_and_unpublished_course_with_the_real_plugins(app: TestApp) -> None:
    course, _ = await paid_course(app, "Real Chemistry", 1500)
    draft, _ = await paid_course(app, "Real Draft", 1500, published=False)
    _, token = await register(app, "anon@example.com")
    # The user's student exists once they bought (or enrolled) something; make it exist.
    mine = await ok(app, "ecommerce", CREATE_CHECKOUT, checkout_vars([course]), token=token)
    student_id = (await ok(app, "students-internal", MY_STUDENT, token=token))["myStudent"]["id"]

    # An anonymous caller naming the student is refused, and the student's open checkout stays theirs.
    body = await app.gql("ecommerce", CREATE_CHECKOUT, checkout_vars([course], studentId=student_id))
    assert error_codes(body) == ["UNAUTHENTICATED"]
    (order,) = (await ok(app, "ecommerce", MY_ORDERS, token=token))["myOrders"]
    assert (order["id"], order["status"]) == (mine["createCheckout"]["orderId"], "PENDING")

    service = app.host.tokens.service_token("storefront")
    body = await app.gql("ecommerce", CREATE_CHECKOUT, checkout_vars([draft], studentId=student_id), token=service)
    assert error_codes(body) == ["NOT_FOUND"]
    body = await app.gql(
        "ecommerce", CREATE_CHECKOUT, checkout_vars([course], studentId="no-such-student"), token=service
    )
    assert error_codes(body) == ["NOT_FOUND"]
    again = await ok(app, "ecommerce", CREATE_CHECKOUT, checkout_vars([course], studentId=student_id), token=service)
    assert again["createCheckout"]["orderId"]
