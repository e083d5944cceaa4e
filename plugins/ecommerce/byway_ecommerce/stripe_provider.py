"""Stripe Checkout through the official SDK's async methods (httpx underneath)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import stripe

from byway_ecommerce.config import EcommerceConfig
from byway_ecommerce.providers import CheckoutRequest, ProviderError, ProviderSession

#: How long a Stripe Checkout Session stays open (Stripe's default; we never set ``expires_at``).
STRIPE_SESSION_LIFETIME = timedelta(hours=24)


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
