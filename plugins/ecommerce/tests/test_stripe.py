"""The Stripe provider through the real ``stripe`` SDK against a Stripe-compatible fake server."""

from __future__ import annotations

from typing import Any

import pytest
from byway_ecommerce import plugin as ecommerce_plugin
from byway_ecommerce.config import EcommerceConfig
from byway_ecommerce.models import (
    CANCELLED,
    OUTBOX_DONE,
    PAID,
    active_checkouts,
    enrollment_outbox,
    order_items,
    orders,
    payments,
)
from byway_ecommerce.state import state_of
from byway_ecommerce.stripe_provider import StripeProvider
from ecommerce_fake_stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe, parse_form
from ecommerce_fakes import FakeCourses, FakeStudents
from ecommerce_shop import OLD_DEV_SECRET, Shop, event, settings_with

from byway.app import create_app
from byway.plugin_config import config_from_mapping
from byway.plugins import PluginError
from byway.settings import ConfigurationError, Settings
from byway.testing import error_codes, serve_app


def test_parse_form_reads_stripe_encoding() -> None:
    assert parse_form("a[b][0][c]=1&a[b][1][c]=2&x=y&m[k]=v") == {
        "a": {"b": [{"c": "1"}, {"c": "2"}]},
        "x": "y",
        "m": {"k": "v"},
    }


async def test_checkout_session_is_created_from_the_snapshots(stripe_shop: tuple[Shop, FakeStripe]) -> None:
    shop, fake = stripe_shop
    assert isinstance(state_of(shop.runtime).provider, StripeProvider)
    a = shop.courses.add_course("Algebra", 1999, "EUR")
    b = shop.courses.add_course("Biology", 1, "EUR")
    result = await shop.buy([a, b], token=shop.user("payer"), email="payer@example.com")

    assert result["sessionId"] in fake.sessions
    assert result["url"] == f"https://checkout.stripe.test/c/pay/{result['sessionId']}"
    ((params, headers),) = fake.create_requests
    assert headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert headers["idempotency-key"] == f"checkout-{result['orderId']}"
    assert params["mode"] == "payment"
    assert params["client_reference_id"] == result["orderId"]
    assert params["metadata"] == {"order_id": result["orderId"]}
    assert params["payment_intent_data"] == {"metadata": {"order_id": result["orderId"]}}
    assert params["success_url"] == "https://shop.example/success?session_id={CHECKOUT_SESSION_ID}"
    assert params["cancel_url"] == "https://shop.example/cancel"
    assert params["customer_email"] == "payer@example.com"
    assert [
        (
            li["quantity"],
            li["price_data"]["currency"],
            li["price_data"]["unit_amount"],
            li["price_data"]["product_data"]["name"],
        )
        for li in params["line_items"]
    ] == [("1", "eur", "1999", "Algebra"), ("1", "eur", "1", "Biology")]
    assert "token" not in str(params).lower()  # the order id travels, never a token
    (order,) = await shop.rows(orders)
    assert (order.provider, order.provider_session_id, order.total_cents, order.currency) == (
        "stripe",
        result["sessionId"],
        2000,
        "EUR",
    )


async def test_provider_failure_cancels_the_order(stripe_shop: tuple[Shop, FakeStripe]) -> None:
    shop, fake = stripe_shop
    fake.fail_create_status = 500
    course, token = shop.courses.add_course(), shop.user("retrier")
    body = await shop.checkout([course], token=token)
    assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
    (order,) = await shop.rows(orders)
    assert order.status == CANCELLED and order.provider_session_id is None
    assert body["errors"][0]["extensions"]["orderId"] == order.id
    assert await shop.count(active_checkouts) == 0  # released: the buyer may try again
    fake.fail_create_status = None
    retried = await shop.buy([course], token=token)
    assert retried["orderId"] != order.id and retried["sessionId"] in fake.sessions


async def test_paid_at_stripe_then_verify_and_webhook(stripe_shop: tuple[Shop, FakeStripe]) -> None:
    shop, fake = stripe_shop
    course = shop.courses.add_course("Physics", 4200)
    token = shop.user("stripe-buyer")
    result = await shop.buy([course], token=token)
    shop.courses.courses[course]["priceCents"] = 1  # a price change after checkout changes nothing

    body = await shop.verify(result["sessionId"], token=token)
    assert body["data"]["verifyCheckout"]["ok"] is False
    session = fake.pay(result["sessionId"])
    body = await shop.verify(result["sessionId"], token=token)
    assert body["data"]["verifyCheckout"] == {"ok": True, "orderId": result["orderId"], "status": PAID}
    assert fake.retrieve_count == 2

    (payment,) = await shop.rows(payments)
    assert (payment.provider_reference, payment.amount_cents, payment.source) == (
        session["payment_intent"],
        4200,
        "verify",
    )
    (item,) = await shop.rows(order_items)
    assert item.price_cents == 4200
    assert {r.status for r in await shop.rows(enrollment_outbox)} == {OUTBOX_DONE}

    # Stripe's own event, signed with the endpoint's secret, arrives late: a no-op.
    response = await shop.post_event(event("checkout.session.completed", session), secret=WEBHOOK_SECRET)
    assert response.json()["result"] == "already_paid"
    # The old public dev secret (and any other) is worthless once Stripe is configured.
    response = await shop.post_event(event("checkout.session.completed", session), secret=OLD_DEV_SECRET)
    assert response.status_code == 400
    # The order is PAID: verify answers from the database without asking Stripe again.
    await shop.verify(result["sessionId"], token=token)
    assert fake.retrieve_count == 2


async def test_webhook_first_with_the_stripe_secret(stripe_shop: tuple[Shop, FakeStripe]) -> None:
    shop, fake = stripe_shop
    result = await shop.buy([shop.courses.add_course(price=500)], token=shop.user("hooked"))
    session = fake.pay(result["sessionId"])
    response = await shop.post_event(event("checkout.session.completed", session), secret=WEBHOOK_SECRET)
    assert response.json()["result"] == "fulfilled"
    await shop.settle()
    assert len(shop.students.enrollments) == 1
    # The dev checkout page does not exist with Stripe.
    response = await shop.app.client.get(f"/api/ecommerce/dev-checkout/{result['sessionId']}")
    assert response.status_code == 404


async def test_stripe_outage_during_verify_is_not_an_error(stripe_shop: tuple[Shop, FakeStripe]) -> None:
    shop, fake = stripe_shop
    result = await shop.buy([shop.courses.add_course()], token=shop.user("calm"))
    fake.fail_retrieve = True
    body = await shop.verify(result["sessionId"])
    assert body["data"]["verifyCheckout"]["ok"] is False
    assert body["data"]["verifyCheckout"]["status"] == "PENDING"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"stripe_secret_key": "sk_test_x"}, "stripe_webhook_secret"),
        ({"outbox_max_attempts": "0"}, "outbox_max_attempts"),
        ({"outbox_interval_seconds": "soon"}, "outbox_interval_seconds"),
        ({"stripe_api_base": "ftp://x"}, "stripe_api_base"),
    ],
)
def test_bad_configuration_is_refused(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        config_from_mapping(EcommerceConfig, "ecommerce", raw)


def test_configuration_from_environment_strings() -> None:
    config = config_from_mapping(
        EcommerceConfig,
        "ecommerce",
        {"outbox_max_attempts": "5", "outbox_backoff_seconds": "0.5", "admin_token": " t "},
    )
    assert (config.outbox_max_attempts, config.outbox_backoff_seconds, config.admin_token) == (5, 0.5, "t")
    assert config.backoff_seconds(1) == 0.5 and config.backoff_seconds(3) == 2.0
    assert EcommerceConfig(outbox_max_backoff_seconds=10).backoff_seconds(40) == 10


async def test_production_refuses_the_dev_provider(byway_settings: Settings) -> None:
    settings = settings_with(byway_settings.with_overrides(env="production"))
    app = create_app(settings, [ecommerce_plugin, FakeStudents(), FakeCourses()])
    with pytest.raises(PluginError, match="dev payment provider is for development only"):
        async with serve_app(app):
            pass


async def test_production_starts_with_stripe(byway_settings: Settings) -> None:
    settings = settings_with(
        byway_settings.with_overrides(env="production", auto_migrate=True),
        stripe_secret_key="sk_live_x",
        stripe_webhook_secret="whsec_x",
    )
    settings.data_dir.mkdir(parents=True)  # production creates no directories
    app = create_app(settings, [ecommerce_plugin, FakeStudents(), FakeCourses()])
    async with serve_app(app) as client:
        assert (await client.get("/readyz")).status_code == 200
