"""What every payment provider offers: Stripe Checkout (:mod:`.stripe_provider`) and the built-in
dev provider (:mod:`.dev_provider`).

Both expose the same three operations on Checkout Sessions (create, retrieve, expire) and the same
session shape, and both deliver Stripe-format signed events to ``POST /api/ecommerce/stripe/webhook``, so orders are
fulfilled by one code path whichever provider took the money.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol


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
