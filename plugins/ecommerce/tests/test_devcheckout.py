"""The dev payment provider's checkout page: pay and cancel through the same webhook code as Stripe."""

from __future__ import annotations

from urllib.parse import urlsplit

from byway_ecommerce.models import CANCELLED, PAID, dev_sessions, orders, payments, processed_events
from ecommerce_shop import Shop


def path(url: str) -> str:
    return urlsplit(url).path


async def test_page_shows_the_cart_and_pay_completes_the_order(shop: Shop) -> None:
    a = shop.courses.add_course("Algebra <script>", 1500)
    b = shop.courses.add_course("Biology", 2550)
    token = shop.user("dev-buyer")
    result = await shop.buy([a, b], token=token)
    page = await shop.app.client.get(path(result["url"]))
    assert page.status_code == 200
    assert "Algebra &lt;script&gt;" in page.text and "<script>" not in page.text
    assert "40.50 USD" in page.text
    assert "value='pay'" in page.text and "value='cancel'" in page.text

    response = await shop.press(result["url"], "pay")
    assert response.status_code == 303
    assert response.headers["location"] == f"https://shop.example/success?session_id={result['sessionId']}"
    await shop.settle()
    (order,) = await shop.rows(orders)
    assert order.status == PAID
    (payment,) = await shop.rows(payments)
    assert (payment.source, payment.amount_cents) == ("webhook", 4050)  # delivered as a signed event
    assert payment.event_id.startswith("evt_dev_")
    body = await shop.verify(result["sessionId"], token=token)
    assert body["data"]["verifyCheckout"] == {"ok": True, "orderId": result["orderId"], "status": PAID}
    enrolled = await shop.app.gql(
        "students-internal", "query($c: ID!) { isEnrolledMe(courseId: $c) }", {"c": a}, token=token
    )
    assert enrolled["data"]["isEnrolledMe"] is True

    page = await shop.app.client.get(path(result["url"]))
    assert "This checkout is paid" in page.text and "value='pay'" not in page.text
    again = await shop.press(result["url"], "pay")
    assert again.status_code == 303
    assert await shop.count(payments) == 1 and await shop.count(processed_events) == 1

    body = await shop.checkout([a], token=token)
    assert body["errors"][0]["extensions"]["code"] == "ALREADY_ENROLLED"


async def test_cancel_cancels_the_order_and_closes_the_session(shop: Shop) -> None:
    result = await shop.buy([shop.courses.add_course()], token=shop.user())
    response = await shop.press(result["url"], "cancel")
    assert response.status_code == 303
    assert response.headers["location"] == "https://shop.example/cancel"
    (order,) = await shop.rows(orders)
    assert order.status == CANCELLED
    (session,) = await shop.rows(dev_sessions)
    assert session.status == "expired"
    response = await shop.press(result["url"], "pay")
    assert response.status_code == 409
    assert await shop.count(payments) == 0
    page = await shop.app.client.get(path(result["url"]))
    assert "expired or was cancelled" in page.text


async def test_bad_requests(shop: Shop) -> None:
    result = await shop.buy([shop.courses.add_course()], token=shop.user())
    url = path(result["url"])
    assert (await shop.app.client.post(url, data={"action": "steal"})).status_code == 400
    assert (await shop.app.client.post(url, data={})).status_code == 400
    assert (await shop.app.client.post(url, content=b"\xff\xfe")).status_code == 400
    assert (await shop.app.client.post(url, content=b"action=pay" + b"&x=1" * 2000)).status_code == 413
    assert (await shop.app.client.get("/api/ecommerce/dev-checkout/cs_dev_nope")).status_code == 404
    assert (
        await shop.app.client.post("/api/ecommerce/dev-checkout/cs_dev_nope", data={"action": "pay"})
    ).status_code == 404
    (order,) = await shop.rows(orders)
    assert order.status == "PENDING"
