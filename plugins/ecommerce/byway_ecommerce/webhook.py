"""``POST /api/ecommerce/stripe/webhook``: Stripe-signed events only.

The raw body is verified with the stripe SDK (``Stripe-Signature``, tolerance 300 s) before
anything is parsed or written: a bad or stale signature gets 400 and writes nothing. A handled
event's id is recorded (``INSERT ... ON CONFLICT DO NOTHING RETURNING``) in the same transaction
as its effect, so a redelivered event is a no-op and a failed one leaves no trace and is retried
by Stripe. The answer comes right after the commit; enrollments are delivered by the outbox
worker, woken in the background.

The dev provider delivers its events through :func:`handle_webhook` too (same verification,
same fulfilment).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import stripe

from byway import Principal, record_audit
from byway.auth import SERVICE
from byway_ecommerce import observability, workers
from byway_ecommerce.fulfilment import Outcome, cancel_in, fulfil_in, refund_in
from byway_ecommerce.models import audit_log
from byway_ecommerce.providers import ProviderSession
from byway_ecommerce.state import webhook_secret
from byway_ecommerce.store import events as store

if TYPE_CHECKING:
    from byway import PluginRuntime

#: Stripe's default: a signature older than this (seconds) is refused, which stops replays.
TOLERANCE_SECONDS = 300

PAID_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
CANCEL_EVENTS = frozenset({"checkout.session.async_payment_failed", "checkout.session.expired"})
REFUND_EVENTS = frozenset({"charge.refunded"})
HANDLED_EVENTS = PAID_EVENTS | CANCEL_EVENTS | REFUND_EVENTS
#: Who acted, in the audit log, when a signed provider event refunds an order.
PROVIDER = Principal(kind=SERVICE, service="payment-provider")


def _refusal(message: str) -> tuple[int, dict[str, Any]]:
    return 400, {"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]}


def verify_event(payload: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    """The event in a verified payload; :class:`ValueError` with a reason otherwise."""
    try:
        stripe.Webhook.construct_event(payload, signature, secret, tolerance=TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise ValueError(f"Invalid Stripe signature: {exc.user_message or exc}") from exc
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # signed, but not an event
        raise ValueError("The payload is not a Stripe event") from exc
    event = json.loads(payload)
    if not isinstance(event, dict):
        raise ValueError("The payload is not a Stripe event")
    data = event.get("data")
    if (
        not isinstance(event.get("id"), str)
        or not event["id"]
        or len(event["id"]) > 255
        or not isinstance(event.get("type"), str)
        or not isinstance(data, dict)
        or not isinstance(data.get("object"), dict)
    ):
        raise ValueError("The payload is not a Stripe event")
    return event


async def handle_webhook(
    plugin: PluginRuntime, payload: bytes, signature: str | None, client_address: str | None = None
) -> tuple[int, dict[str, Any]]:
    """Verify and apply one webhook delivery; returns ``(http_status, json_body)``."""
    try:
        event = verify_event(payload, signature, webhook_secret(plugin))
    except ValueError as exc:
        plugin.log.warning("webhook refused: %s", exc)
        observability.count_webhook(plugin, "unknown", "bad_signature" if "signature" in str(exc) else "invalid")
        return _refusal(str(exc))
    if event["type"] not in HANDLED_EVENTS:
        observability.count_webhook(plugin, event["type"], "ignored")
        return 200, {"received": True, "id": event["id"], "type": event["type"], "result": "ignored"}
    outcome = await apply_event(plugin, event, client_address)
    observability.count_webhook(plugin, event["type"], observability.WEBHOOK_OUTCOMES.get(outcome.result, "verified"))
    if outcome.wake:
        workers.wake(plugin)
    return 200, {"received": True, "id": event["id"], "type": event["type"], **outcome.as_json()}


async def apply_event(plugin: PluginRuntime, event: dict[str, Any], client_address: str | None = None) -> Outcome:
    """Record the event id and apply its effect in ONE transaction (a duplicate does nothing)."""
    obj: dict[str, Any] = event["data"]["object"]
    async with plugin.sessions() as session, session.begin():
        if not await store.record_event(session, event["id"], event["type"]):
            return Outcome("duplicate")
        if event["type"] in REFUND_EVENTS:
            outcome = await refund_in(session, plugin, obj)
            if outcome.order_id is not None:
                await record_audit(
                    session,
                    audit_log,
                    principal=PROVIDER,
                    action=f"orders.{outcome.result}",
                    target=outcome.order_id,
                    details={"eventId": event["id"], "amountRefunded": obj.get("amount_refunded")},
                    client_address=client_address,
                )
            return outcome
        checkout = ProviderSession.from_stripe(obj)
        order_id = checkout.order_id
        if order_id is None and checkout.id:
            order_id = await store.order_id_of_session(session, checkout.id)
        if not order_id:
            plugin.log.warning("event %s: session %s names no order; ignored", event["id"], checkout.id)
            return Outcome("unknown_order")
        if event["type"] in CANCEL_EVENTS:
            return await cancel_in(session, order_id, checkout.id)
        if not checkout.is_paid:
            # e.g. a bank debit: checkout.session.async_payment_succeeded follows.
            return Outcome("awaiting_payment", order_id)
        return await fulfil_in(session, plugin, order_id, checkout, source="webhook", raw=event, event_id=event["id"])
