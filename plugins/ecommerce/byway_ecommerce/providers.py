"""Payment providers: Stripe Checkout (the real one) and the built-in dev provider.

Both expose the same three operations on Checkout Sessions (create, retrieve, expire) and the same
session shape, and both deliver Stripe-format signed events to ``POST /api/ecommerce/stripe/webhook``, so orders are
fulfilled by one code path whichever provider took the money.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import stripe
from sqlalchemy import select, update

from byway.db import insert_for, utcnow
from byway_ecommerce.config import EcommerceConfig
from byway_ecommerce.models import dev_sessions

if TYPE_CHECKING:
    from byway.runtime import PluginRuntime


#: How long a Stripe Checkout Session stays open (Stripe's default; we never set ``expires_at``).
STRIPE_SESSION_LIFETIME = timedelta(hours=24)


class ProviderError(Exception):
    """The payment provider could not be reached or refused the request."""


@dataclass(frozen=True)
class LineItem:
    """One line of a checkout: a snapshot of a course's title and price."""

    course_id: str
    title: str
    price_cents: int
    currency: str


@dataclass(frozen=True)
class CheckoutRequest:
    """What a provider needs to open a Checkout Session for an order."""

    order_id: str
    line_items: Sequence[LineItem]
    currency: str
    success_url: str
    cancel_url: str
    customer_email: str | None = None

    @property
    def idempotency_key(self) -> str:
        """One key per order: retrying the creation never opens a second session."""
        return f"checkout-{self.order_id}"

    @property
    def amount_total(self) -> int:
        """The sum of the line items, in minor units."""
        return sum(item.price_cents for item in self.line_items)


@dataclass(frozen=True)
class ProviderSession:
    """A Checkout Session as the provider reports it (Stripe's field names and values)."""

    id: str
    url: str | None
    status: str  # open | complete | expired
    payment_status: str  # unpaid | paid | no_payment_required
    amount_total: int | None = None
    currency: str | None = None
    payment_intent: str | None = None
    order_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def is_paid(self) -> bool:
        """The money is collected: the order may be fulfilled."""
        return self.status == "complete" and self.payment_status in {"paid", "no_payment_required"}

    @property
    def is_expired(self) -> bool:
        """The session can no longer be paid."""
        return self.status == "expired"

    @property
    def is_open(self) -> bool:
        """The buyer can still pay on the session's page."""
        return self.status == "open"

    @property
    def expires_at(self) -> datetime | None:
        """When the provider closes the session (Stripe's ``expires_at``), if it says."""
        value = self.raw.get("expires_at")
        return datetime.fromtimestamp(value, UTC) if isinstance(value, int) else None

    @property
    def payment_reference(self) -> str:
        """The id a Payment row is keyed by: the PaymentIntent, else the session itself."""
        return self.payment_intent or self.id

    @classmethod
    def from_stripe(cls, obj: dict[str, Any]) -> ProviderSession:
        """A session from a Stripe ``checkout.session`` object (API response or event payload)."""
        metadata = obj.get("metadata") or {}
        payment_intent = obj.get("payment_intent")
        if isinstance(payment_intent, dict):  # expanded
            payment_intent = payment_intent.get("id")
        order_id = metadata.get("order_id") if isinstance(metadata, dict) else None
        amount = obj.get("amount_total")
        return cls(
            id=str(obj.get("id") or ""),
            url=obj.get("url"),
            status=str(obj.get("status") or ""),
            payment_status=str(obj.get("payment_status") or ""),
            amount_total=amount if isinstance(amount, int) else None,
            currency=str(obj["currency"]).upper() if obj.get("currency") else None,
            payment_intent=payment_intent if isinstance(payment_intent, str) else None,
            order_id=str(order_id or obj.get("client_reference_id") or "") or None,
            raw=obj,
        )


class PaymentProvider(Protocol):
    """Opens, reads and expires Checkout Sessions."""

    name: str
    #: How long a new session stays open.
    session_lifetime: timedelta
    #: The longest a :meth:`create_session` call can take (all retries included).
    creation_deadline: timedelta

    async def create_session(self, request: CheckoutRequest) -> ProviderSession:
        """Open a session for the order (idempotent per order); :class:`ProviderError` on failure."""
        ...

    async def retrieve_session(self, session_id: str) -> ProviderSession | None:
        """The session's current state (None when unknown); :class:`ProviderError` on failure."""
        ...

    async def expire_session(self, session_id: str) -> ProviderSession | None:
        """Close an open session so it can no longer be paid; returns the session afterwards (a
        session that was already complete or expired is returned as it is; None when unknown).
        :class:`ProviderError` when the provider cannot be reached."""
        ...

    async def close(self) -> None:
        """Release network resources."""
        ...


def stripe_session_params(request: CheckoutRequest) -> dict[str, Any]:
    """The ``POST /v1/checkout/sessions`` parameters for an order.

    Prices come from the order's snapshots; the order id travels in ``client_reference_id`` and
    ``metadata`` (never a token).
    """
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": item.currency.lower(),
                    "unit_amount": item.price_cents,
                    "product_data": {"name": item.title, "metadata": {"course_id": item.course_id}},
                },
            }
            for item in request.line_items
        ],
        "client_reference_id": request.order_id,
        "metadata": {"order_id": request.order_id},
        "payment_intent_data": {"metadata": {"order_id": request.order_id}},
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
    }
    if request.customer_email:
        params["customer_email"] = request.customer_email
    return params


class _StripeHTTPX(stripe.HTTPXClient):
    """The SDK's httpx client, sending the encoded form as ``content``.

    stripe 16 passes the already-encoded body as ``data=<str>``, which httpx 0.28 deprecates
    (a DeprecationWarning on every request).
    """

    def _get_request_args_kwargs(self, method: str, url: str, headers: Mapping[str, str], post_data: Any) -> list[Any]:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, None)
        kwargs.pop("data", None)
        if post_data:
            kwargs["content"] = post_data
        return [args, kwargs]


class StripeProvider:
    """Stripe Checkout through the official SDK's async methods (httpx underneath)."""

    name = "stripe"
    session_lifetime = STRIPE_SESSION_LIFETIME

    def __init__(self, config: EcommerceConfig) -> None:
        # Every attempt may take the whole timeout; the SDK sleeps at most 2 s between retries.
        attempts = config.stripe_max_network_retries + 1
        self.creation_deadline = timedelta(seconds=config.stripe_timeout_seconds * attempts + 2 * attempts + 5)
        self._http = _StripeHTTPX(timeout=config.stripe_timeout_seconds)
        base = {"api": config.stripe_api_base.rstrip("/")} if config.stripe_api_base else None
        self.client = stripe.StripeClient(
            config.stripe_secret_key,
            base_addresses=base,  # type: ignore[arg-type]
            http_client=self._http,
            max_network_retries=config.stripe_max_network_retries,
        )

    async def create_session(self, request: CheckoutRequest) -> ProviderSession:
        """``checkout.sessions.create`` with the order's idempotency key."""
        try:
            session = await self.client.v1.checkout.sessions.create_async(
                stripe_session_params(request),  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe refused to create the checkout session: {exc.user_message or exc}") from exc
        return ProviderSession.from_stripe(session.to_dict())

    async def retrieve_session(self, session_id: str) -> ProviderSession | None:
        """``checkout.sessions.retrieve``; None when Stripe does not know the id."""
        try:
            session = await self.client.v1.checkout.sessions.retrieve_async(session_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            raise ProviderError(f"Stripe refused to read the checkout session: {exc.user_message or exc}") from exc
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe is unavailable: {exc.user_message or exc}") from exc
        return ProviderSession.from_stripe(session.to_dict())

    async def expire_session(self, session_id: str) -> ProviderSession | None:
        """``checkout.sessions.expire``; Stripe refuses (400) to expire a session that is not open,
        which is then read back (complete: the buyer paid; expired: nothing to do)."""
        try:
            session = await self.client.v1.checkout.sessions.expire_async(session_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            after = await self.retrieve_session(session_id)
            if after is None or after.is_open:
                raise ProviderError(
                    f"Stripe refused to expire the checkout session: {exc.user_message or exc}"
                ) from exc
            return after
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe is unavailable: {exc.user_message or exc}") from exc
        return ProviderSession.from_stripe(session.to_dict())

    async def close(self) -> None:
        """Close the SDK's httpx client."""
        await self._http.close_async()  # type: ignore[no-untyped-call]


class DevProvider:
    """A stand-in for Stripe in development: sessions live in the plugin's own database.

    The checkout page is served by the app at ``/api/ecommerce/dev-checkout/<session id>``
    (see :mod:`byway_ecommerce.devcheckout`); paying there delivers a Stripe-format signed
    ``checkout.session.completed`` event to the same webhook code as real Stripe.
    """

    name = "dev"
    #: A local insert (which may queue behind other SQLite writers).
    creation_deadline = timedelta(seconds=60)

    def __init__(self, runtime: PluginRuntime, config: EcommerceConfig) -> None:
        self.runtime = runtime
        self.config = config
        self.session_lifetime = timedelta(seconds=config.dev_session_ttl_seconds)

    def url_for(self, session_id: str) -> str:
        """Where the buyer pays: this server's dev checkout page."""
        return f"{self.runtime.settings.self_url.rstrip('/')}/api/ecommerce/dev-checkout/{session_id}"

    async def create_session(self, request: CheckoutRequest) -> ProviderSession:
        """Store an open session (one per idempotency key, like Stripe)."""
        now = utcnow()
        values = {
            "id": "cs_dev_" + secrets.token_hex(16),
            "idempotency_key": request.idempotency_key,
            "order_id": request.order_id,
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": request.amount_total,
            "currency": request.currency,
            "customer_email": request.customer_email,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "line_items": json.dumps(
                [
                    {"course_id": i.course_id, "title": i.title, "price_cents": i.price_cents, "currency": i.currency}
                    for i in request.line_items
                ]
            ),
            "created_at": now,
            "expires_at": now + timedelta(seconds=self.config.dev_session_ttl_seconds),
        }
        async with self.runtime.sessions() as session, session.begin():
            await session.execute(
                insert_for(session)(dev_sessions)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
            row = (
                await session.execute(
                    select(dev_sessions).where(dev_sessions.c.idempotency_key == request.idempotency_key)
                )
            ).one()
        return self._session(row)

    async def retrieve_session(self, session_id: str) -> ProviderSession | None:
        """The stored session (an open one past its expiry reads as expired)."""
        async with self.runtime.sessions() as session:
            row = (await session.execute(select(dev_sessions).where(dev_sessions.c.id == session_id))).first()
        return self._session(row) if row is not None else None

    async def mark_paid(self, session_id: str) -> tuple[ProviderSession | None, bool]:
        """Complete an open, unexpired session (compare-and-set): the session afterwards (None if
        unknown) and whether this call completed it."""
        now = utcnow()
        async with self.runtime.sessions() as session, session.begin():
            changed = (
                await session.execute(
                    update(dev_sessions)
                    .where(
                        dev_sessions.c.id == session_id,
                        dev_sessions.c.status == "open",
                        dev_sessions.c.expires_at > now,
                    )
                    .values(status="complete", payment_status="paid", payment_intent="pi_dev_" + secrets.token_hex(12))
                    .returning(dev_sessions.c.id)
                )
            ).first()
        return await self.retrieve_session(session_id), changed is not None

    async def mark_expired(self, session_id: str) -> tuple[ProviderSession | None, bool]:
        """Expire an open session (the buyer cancelled): the session afterwards (None if unknown)
        and whether this call expired it."""
        async with self.runtime.sessions() as session, session.begin():
            changed = (
                await session.execute(
                    update(dev_sessions)
                    .where(dev_sessions.c.id == session_id, dev_sessions.c.status == "open")
                    .values(status="expired")
                    .returning(dev_sessions.c.id)
                )
            ).first()
        return await self.retrieve_session(session_id), changed is not None

    async def expire_session(self, session_id: str) -> ProviderSession | None:
        """Expire an open session (its Pay button then refuses); a paid one stays paid."""
        after, _ = await self.mark_expired(session_id)
        return after

    async def close(self) -> None:
        """Nothing to release."""

    def _session(self, row: Any) -> ProviderSession:
        status = row.status
        if status == "open" and row.expires_at <= utcnow():
            status = "expired"
        obj = {
            "id": row.id,
            "object": "checkout.session",
            "mode": "payment",
            "url": self.url_for(row.id) if status == "open" else None,
            "status": status,
            "payment_status": row.payment_status,
            "amount_total": row.amount_total,
            "currency": row.currency.lower(),
            "client_reference_id": row.order_id,
            "metadata": {"order_id": row.order_id},
            "payment_intent": row.payment_intent,
            "customer_email": row.customer_email,
            "success_url": row.success_url,
            "cancel_url": row.cancel_url,
            "created": int(row.created_at.timestamp()),
            "expires_at": int(row.expires_at.timestamp()),
            "livemode": False,
        }
        return ProviderSession.from_stripe(obj)
