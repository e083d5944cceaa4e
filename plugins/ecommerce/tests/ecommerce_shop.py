"""Helpers of the ecommerce tests: a running shop with fake neighbours, signed events, row counts."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import stripe
from byway_ecommerce import plugin as ecommerce_plugin
from byway_ecommerce.devcheckout import csrf_token
from byway_ecommerce.state import state_of, webhook_secret
from ecommerce_fakes import FakeCourses, FakeStudents
from sqlalchemy import func, select

from byway.runtime import PluginRuntime
from byway.settings import Settings
from byway.testing import TestApp, running_app

#: Quiet by default: tests drive the worker themselves unless they test the jobs.
TEST_CONFIG = {
    "outbox_interval_seconds": 3600,
    "reconcile_interval_seconds": 0,
    "outbox_backoff_seconds": 0.5,
    "email_interval_seconds": 3600,
    "dev_delivery_interval_seconds": 3600,
}

CREATE_CHECKOUT = """
mutation Checkout($items: [CartItemInput!]!, $successUrl: String!, $cancelUrl: String!,
                  $studentId: ID, $email: String) {
  createCheckout(items: $items, successUrl: $successUrl, cancelUrl: $cancelUrl,
                 studentId: $studentId, email: $email) { sessionId url orderId }
}"""
VERIFY_QUERY = "query V($s: ID!) { verifyCheckout(sessionId: $s) { ok orderId status } }"
VERIFY_MUTATION = "mutation V($s: ID!) { verifyCheckout(sessionId: $s) { ok orderId status } }"
MY_ORDERS = """
{ myOrders { id studentId status totalCents currency email createdAt paidAt
             items { id courseId title priceCents currency } } }"""
COURSE_ORDER_COUNT = "query C($c: ID!) { courseOrderCount(courseId: $c) }"

#: The public constant that once signed dev events (issue 10 #4): no server may accept it now.
OLD_DEV_SECRET = "whsec_byway_dev_provider_not_a_secret"

SUCCESS = "https://shop.example/success"
CANCEL = "https://shop.example/cancel"


@dataclass
class Shop:
    """A running app with ecommerce and the fake students-internal / teach-internal."""

    app: TestApp
    students: FakeStudents
    courses: FakeCourses

    @property
    def runtime(self) -> PluginRuntime:
        """The ecommerce plugin's runtime."""
        return self.app.host.plugins["ecommerce"]

    def user(self, user_id: str | None = None, roles: tuple[str, ...] = ("student",)) -> str:
        """A user token."""
        return self.app.token(user_id or "user-" + uuid.uuid4().hex[:8], roles)

    async def checkout(
        self, course_ids: list[str], *, token: str | None = None, student_id: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        """Run createCheckout; returns the whole response body.

        Naming a ``student_id`` without a token checks out as a service (anonymous callers may not
        name a student).
        """
        if token is None and student_id is not None:
            token = self.service()
        variables = {
            "items": [{"courseId": c} for c in course_ids],
            "successUrl": SUCCESS,
            "cancelUrl": CANCEL,
            "studentId": student_id,
            **extra,
        }
        return await self.app.gql("ecommerce", CREATE_CHECKOUT, variables, token=token)

    def service(self, name: str = "storefront") -> str:
        """A service token of another plugin."""
        return self.app.host.tokens.service_token(name)

    async def buy(
        self, course_ids: list[str], *, token: str | None = None, student_id: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        """createCheckout that must succeed; returns ``{sessionId, url, orderId}``."""
        body = await self.checkout(course_ids, token=token, student_id=student_id, **extra)
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["createCheckout"]
        return result

    async def verify(self, session_id: str, token: str | None = None) -> dict[str, Any]:
        """verifyCheckout (query form); returns the whole response body."""
        return await self.app.gql("ecommerce", VERIFY_QUERY, {"s": session_id}, token=token)

    async def post_event(self, event: dict[str, Any], secret: str | None = None, **sign: Any) -> Any:
        """POST a signed event (by default with this server's webhook secret); returns the httpx response."""
        secret = secret or webhook_secret(self.runtime)
        payload = json.dumps(event)
        header = sign_payload(payload, secret, **sign)
        return await self.app.client.post(
            "/api/ecommerce/stripe/webhook",
            content=payload,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        )

    async def settle(self) -> None:
        """Wait for the background outbox drain started by webhooks."""
        for waker in list(state_of(self.runtime).wakers.values()):
            await waker.idle()

    async def press(self, url: str, action: str) -> Any:
        """Press Pay or Cancel on a dev checkout page (the form's CSRF token included); the httpx response."""
        return await press(self.app.client, self.runtime, url, action)

    async def count(self, table: Any, *where: Any) -> int:
        """Rows of one of the plugin's tables."""
        async with self.runtime.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(table).where(*where)) or 0)

    async def rows(self, table: Any, *where: Any) -> list[Any]:
        """Rows of one of the plugin's tables."""
        async with self.runtime.sessions() as session:
            return list((await session.execute(select(table).where(*where))).all())


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> bool:
    """Poll ``check`` until it is true or ``seconds`` passed; returns its last answer."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.02)
    return await check()


async def press(client: Any, runtime: PluginRuntime, url: str, action: str) -> Any:
    """POST the dev checkout form of ``url`` as its page does (with the CSRF token)."""
    path = urlsplit(url).path
    token = csrf_token(runtime, path.rsplit("/", 1)[-1])
    return await client.post(path, data={"action": action, "csrf_token": token})


def sign_payload(payload: str, secret: str, *, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header, made exactly as Stripe makes it (the SDK's own helper)."""
    return str(stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp))


def session_object(
    order_id: str,
    session_id: str,
    *,
    amount: int,
    currency: str = "usd",
    payment_status: str = "paid",
    status: str = "complete",
    payment_intent: str | None = None,
) -> dict[str, Any]:
    """A Stripe ``checkout.session`` object as events carry it."""
    return {
        "id": session_id,
        "object": "checkout.session",
        "mode": "payment",
        "status": status,
        "payment_status": payment_status,
        "amount_total": amount,
        "currency": currency,
        "client_reference_id": order_id,
        "metadata": {"order_id": order_id},
        "payment_intent": payment_intent or ("pi_" + session_id[-20:]),
    }


def event(event_type: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    """A Stripe event."""
    return {
        "id": event_id or "evt_" + uuid.uuid4().hex,
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }


def settings_with(settings: Settings, **config: Any) -> Settings:
    """Settings whose ``[plugin.ecommerce]`` table is the test defaults plus ``config``."""
    return settings.with_overrides(plugins={"ecommerce": {**TEST_CONFIG, **config}})


@asynccontextmanager
async def open_shop(
    settings: Settings,
    students: FakeStudents | None = None,
    courses: FakeCourses | None = None,
    extra_plugins: list[Any] | None = None,
    transport: str | None = None,
    **config: Any,
) -> AsyncIterator[Shop]:
    """Start an app with ecommerce and fresh (or given) fakes (``transport``: see ``running_app``)."""
    students = students or FakeStudents()
    courses = courses or FakeCourses()
    plugins = [ecommerce_plugin, students, courses, *(extra_plugins or [])]
    async with running_app(plugins, settings_with(settings, **config), transport=transport) as app:
        yield Shop(app, students, courses)
