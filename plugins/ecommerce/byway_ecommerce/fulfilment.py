"""Order state changes: fulfil (PENDING→PAID), cancel (PENDING→CANCELLED), refund (PAID→REFUNDED).

Each runs inside a transaction the caller owns (the webhook's, which also records the event id,
or verifyCheckout's, reconcile's and createCheckout's own) and starts with a compare-and-set
``UPDATE`` of the order (:mod:`byway_ecommerce.store.orders`), so of any number of racers exactly
one wins; only the winner writes the Payment and the outbox rows. Whatever arrives twice, late or
out of order is a no-op. An order leaving PENDING releases its ``active_checkouts`` rows in the
same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from byway_ecommerce import emails
from byway_ecommerce.models import CANCELLED, PENDING
from byway_ecommerce.money import money
from byway_ecommerce.providers import ProviderSession
from byway_ecommerce.store import orders as store
from byway_ecommerce.store import outbox as outbox_store
from byway_ecommerce.store import payments

if TYPE_CHECKING:
    from byway import PluginRuntime


@dataclass(frozen=True)
class Outcome:
    """What an event or a check did to an order; ``wake`` asks for an outbox drain."""

    result: str
    order_id: str | None = None
    wake: bool = False

    def as_json(self) -> dict[str, Any]:
        """The outcome for a JSON response."""
        return {"result": self.result, "orderId": self.order_id}


async def fulfil_in(
    session: AsyncSession,
    plugin: PluginRuntime,
    order_id: str,
    paid: ProviderSession,
    *,
    source: str,
    raw: dict[str, Any],
    event_id: str | None = None,
) -> Outcome:
    """Mark the order PAID and write its Payment and one outbox row per item (compare-and-set).

    A CANCELLED order is fulfilled too: money the provider confirms was taken (e.g. for a session
    whose creation timed out on our side, or a checkout a newer one superseded) must still become
    enrollments; a payment that duplicates another paid order is logged at WARNING for a manual
    refund. A payment of another amount or currency than the order's is recorded but NOT
    fulfilled: the order goes to REVIEW for an admin (:mod:`byway_ecommerce.review`). A receipt is
    queued in the same transaction (:mod:`byway_ecommerce.emails`).
    """
    won = await store.mark_paid(session, order_id, paid.id)
    if won is None:
        return await _not_fulfilled(session, plugin, order_id, paid)
    amount = paid.amount_total if paid.amount_total is not None else won.total_cents
    currency = (paid.currency or won.currency).upper()
    await payments.insert_payment(
        session,
        order_id=order_id,
        reference=paid.payment_reference,
        amount_cents=amount,
        currency=currency,
        source=source,
        event_id=event_id,
        raw=raw,
    )
    await store.release(session, order_id)
    if amount != won.total_cents or currency != won.currency:
        reason = f"charged {money(amount, currency)} for an order of {money(won.total_cents, won.currency)}"
        await store.set_review(session, order_id, reason)
        plugin.log.error(
            "order %s %s: NOT fulfilled, held for review (resolveOrderReview; the payment is recorded)",
            order_id,
            reason,
        )
        return Outcome("review", order_id)
    await _warn_duplicate(session, plugin, won, paid.id)
    queued = await outbox_store.queue_enrollments(session, order_id, won.student_id)
    await emails.queue(plugin, session, order_id, emails.RECEIPT)
    plugin.log.info("order %s paid (%s); %d enrollment(s) queued", order_id, source, queued)
    return Outcome("fulfilled", order_id, wake=True)


async def _not_fulfilled(session: AsyncSession, plugin: PluginRuntime, order_id: str, paid: ProviderSession) -> Outcome:
    """Why the compare-and-set found nothing to fulfil."""
    current = await store.status_of(session, order_id)
    if current is None:
        plugin.log.warning("payment for unknown order %s (session %s) ignored", order_id, paid.id)
        return Outcome("unknown_order", order_id)
    if current in (PENDING, CANCELLED):
        plugin.log.error("session %s does not belong to order %s; payment not applied", paid.id, order_id)
        return Outcome("session_mismatch", order_id)
    return Outcome("already_" + current.lower(), order_id)


async def _warn_duplicate(session: AsyncSession, plugin: PluginRuntime, won: store.PaidOrder, session_id: str) -> None:
    others = await payments.duplicate_orders(session, won.id, won.student_id)
    if won.superseded:
        plugin.log.warning(
            "order %s: student %s paid checkout session %s, which a newer checkout had superseded; fulfilled anyway%s",
            won.id,
            won.student_id,
            session_id,
            f" — duplicate payment of paid order(s) {others}: refund one manually" if others else "",
        )
    elif others:
        plugin.log.warning(
            "order %s: student %s paid again for course(s) of paid order(s) %s: duplicate payment, refund one manually",
            won.id,
            won.student_id,
            others,
        )


async def cancel_in(session: AsyncSession, order_id: str, session_id: str) -> Outcome:
    """PENDING→CANCELLED (expired session, failed async payment, buyer cancelled on the dev page)."""
    if await store.cancel_session(session, order_id, session_id):
        return Outcome("cancelled", order_id)
    return Outcome("unchanged", order_id)


async def refund_in(session: AsyncSession, plugin: PluginRuntime, charge: dict[str, Any]) -> Outcome:
    """Record a refund of a Stripe charge; a full refund marks the order REFUNDED and queues revocations.

    Partial refunds are recorded on the Payment and keep the enrollments. The outbox rows of the
    order become revocations; a row a worker is enrolling right now keeps its lease as due time,
    so the revocation runs after the enrollment call can have landed.
    """
    reference = charge.get("payment_intent")
    if isinstance(reference, dict):
        reference = reference.get("id")
    if not isinstance(reference, str) or not reference:
        return Outcome("ignored_no_payment_intent")
    amount = charge.get("amount")
    refunded_cents = charge.get("amount_refunded")
    full = charge.get("refunded") is True or (
        isinstance(amount, int) and isinstance(refunded_cents, int) and refunded_cents >= amount > 0
    )
    order_id = await payments.record_refund(
        session, reference, full=full, refunded_cents=refunded_cents if isinstance(refunded_cents, int) else None
    )
    if order_id is None:
        plugin.log.warning("refund of unknown payment %s ignored", reference)
        return Outcome("unknown_payment")
    if not full:
        return Outcome("partially_refunded", order_id)
    if not await payments.mark_refunded(session, order_id):
        return Outcome("already_refunded", order_id)
    await emails.queue(plugin, session, order_id, emails.REFUND)
    plugin.log.info("order %s refunded; enrollments will be revoked", order_id)
    return Outcome("refunded", order_id, wake=True)
