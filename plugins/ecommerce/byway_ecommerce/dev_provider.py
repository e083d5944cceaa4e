"""The built-in dev payment provider: a stand-in for Stripe whose sessions live in ecommerce's database.

The checkout page is served by the app at ``/api/ecommerce/dev-checkout/<session id>`` (see
:mod:`byway_ecommerce.devcheckout`); paying there delivers a Stripe-format signed
``checkout.session.completed`` event to the same webhook code as real Stripe.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from byway import utcnow
from byway_ecommerce.config import EcommerceConfig
from byway_ecommerce.dev_events import stripe_event
from byway_ecommerce.providers import CheckoutRequest, ProviderSession
from byway_ecommerce.store import dev as store

if TYPE_CHECKING:
    from byway import PluginRuntime


class DevProvider:
    """Checkout Sessions in the plugin's own database, paid or cancelled on the dev checkout page."""

    name = "dev"
    #: A local insert (which may queue behind other SQLite writers).
    creation_deadline = timedelta(seconds=60)

    def __init__(self, plugin: PluginRuntime, config: EcommerceConfig) -> None:
        self.plugin = plugin
        self.config = config
        self.session_lifetime = timedelta(seconds=config.dev_session_ttl_seconds)

    def url_for(self, session_id: str) -> str:
        """Where the buyer pays: this server's dev checkout page."""
        return f"{self.plugin.settings.self_url.rstrip('/')}/api/ecommerce/dev-checkout/{session_id}"

    async def create_session(self, request: CheckoutRequest) -> ProviderSession:
        """Store an open session (one per idempotency key, like Stripe)."""
        now = utcnow()
        lines = [
            {"course_id": i.course_id, "title": i.title, "price_cents": i.price_cents, "currency": i.currency}
            for i in request.line_items
        ]
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
            "line_items": json.dumps(lines),
            "created_at": now,
            "expires_at": now + timedelta(seconds=self.config.dev_session_ttl_seconds),
        }
        async with self.plugin.sessions() as session, session.begin():
            row = await store.create_session(session, values)
        return self._session(row)

    async def retrieve_session(self, session_id: str) -> ProviderSession | None:
        """The stored session (an open one past its expiry reads as expired)."""
        async with self.plugin.sessions() as session:
            row = await store.get_session(session, session_id)
        return self._session(row) if row is not None else None

    async def mark_paid(
        self, session_id: str, *, owner: str | None = None
    ) -> tuple[ProviderSession | None, str | None]:
        """Complete an open, unexpired session (compare-and-set): the session afterwards (None if
        unknown) and, when this call completed it, the id of its ``checkout.session.completed``
        event. With an ``owner`` the event is stored in the same transaction as the payment, owed
        to the webhook and claimed by ``owner`` for its first delivery
        (:mod:`byway_ecommerce.dev_deliveries` retries it until the webhook accepts it)."""
        return await self._change(session_id, store.complete, "checkout.session.completed", owner)

    async def mark_expired(
        self, session_id: str, *, owner: str | None = None
    ) -> tuple[ProviderSession | None, str | None]:
        """Expire an open session (the buyer cancelled): like :meth:`mark_paid`, with a
        ``checkout.session.expired`` event."""
        return await self._change(session_id, store.expire, "checkout.session.expired", owner)

    async def _change(
        self,
        session_id: str,
        change: Callable[[AsyncSession, str], Awaitable[bool]],
        event_type: str,
        owner: str | None,
    ) -> tuple[ProviderSession | None, str | None]:
        event_id: str | None = None
        async with self.plugin.sessions() as session, session.begin():
            if await change(session, session_id):
                event = stripe_event(event_type, self._session(await store.get_session(session, session_id)).raw)
                event_id = str(event["id"])
                if owner is not None:
                    lease = timedelta(seconds=self.config.outbox_lease_seconds)
                    await store.insert_delivery(session, event, session_id, owner=owner, lease=lease)
        return await self.retrieve_session(session_id), event_id

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
