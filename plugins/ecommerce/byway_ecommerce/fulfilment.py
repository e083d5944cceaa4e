"""Order state changes: fulfil (PENDING→PAID), cancel and supersede (PENDING→CANCELLED), refund
(PAID→REFUNDED).

Each runs inside a transaction the caller owns (the webhook's, which also records the event id,
or verifyCheckout's, reconcile's and createCheckout's own) and starts with a compare-and-set
``UPDATE`` of the order, so of any number of racers exactly one wins; only the winner writes the
Payment and the outbox rows. Whatever arrives twice, late or out of order is a no-op. An order
leaving PENDING releases its ``active_checkouts`` rows in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from byway.db import insert_for, new_id, utcnow
from byway_ecommerce.models import (
    CANCELLED,
    OUTBOX_PENDING,
    OUTBOX_REVOKE_FAILED,
    OUTBOX_REVOKE_PENDING,
    OUTBOX_REVOKED,
    PAID,
    PENDING,
    REFUNDED,
    active_checkouts,
    enrollment_outbox,
    order_items,
    orders,
    payments,
)
from byway_ecommerce.providers import ProviderSession

if TYPE_CHECKING:
    from byway.runtime import PluginRuntime


@dataclass(frozen=True)
class Outcome:
    """What an event or a check did to an order; ``wake`` asks for an outbox drain."""

    result: str
    order_id: str | None = None
    wake: bool = False

    def as_json(self) -> dict[str, Any]:
        """The outcome for a JSON response."""
        return {"result": self.result, "orderId": self.order_id}


async def release_in(session: AsyncSession, order_id: str) -> None:
    """Delete the order's active-checkout rows (it left PENDING): its courses may be checked out again."""
    await session.execute(delete(active_checkouts).where(active_checkouts.c.order_id == order_id))


def _session_matches(session_id: str) -> Any:
    # An order whose session id is not stored yet (crash between creating the session and
    # saving its id) is still found through the order id the session carries.
    return or_(orders.c.provider_session_id.is_(None), orders.c.provider_session_id == session_id)


async def fulfil_in(
    session: AsyncSession,
    runtime: PluginRuntime,
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
    refund.
    """
    now = utcnow()
    won = (
        await session.execute(
            update(orders)
            .where(orders.c.id == order_id, orders.c.status.in_((PENDING, CANCELLED)), _session_matches(paid.id))
            .values(
                status=PAID,
                paid_at=now,
                updated_at=now,
                provider_session_id=func.coalesce(orders.c.provider_session_id, paid.id),
            )
            .returning(
                orders.c.id, orders.c.student_id, orders.c.total_cents, orders.c.currency, orders.c.superseded_at
            )
        )
    ).first()
    if won is None:
        current = (await session.execute(select(orders.c.status).where(orders.c.id == order_id))).scalar()
        if current is None:
            runtime.log.warning("payment for unknown order %s (session %s) ignored", order_id, paid.id)
            return Outcome("unknown_order", order_id)
        if current in (PENDING, CANCELLED):
            runtime.log.error("session %s does not belong to order %s; payment not applied", paid.id, order_id)
            return Outcome("session_mismatch", order_id)
        return Outcome("already_" + current.lower(), order_id)
    amount = paid.amount_total if paid.amount_total is not None else won.total_cents
    currency = (paid.currency or won.currency).upper()
    if amount != won.total_cents or currency != won.currency:
        runtime.log.error(
            "order %s was charged %s %s but totals %s %s; fulfilled anyway (the money is taken)",
            order_id,
            amount,
            currency,
            won.total_cents,
            won.currency,
        )
    insert = insert_for(session)
    await session.execute(
        insert(payments)
        .values(
            id=new_id(),
            order_id=order_id,
            provider_reference=paid.payment_reference,
            amount_cents=amount,
            currency=currency,
            status="succeeded",
            amount_refunded_cents=0,
            source=source,
            event_id=event_id,
            raw=json.dumps(raw, default=str),
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing()
    )
    items = (
        await session.execute(
            select(order_items.c.id, order_items.c.course_id).where(order_items.c.order_id == order_id)
        )
    ).all()
    await release_in(session, order_id)
    await _warn_duplicate(session, runtime, order_id, won.student_id, won.superseded_at is not None, paid.id)
    if items:
        await session.execute(
            insert(enrollment_outbox)
            .values(
                [
                    {
                        "id": new_id(),
                        "order_id": order_id,
                        "order_item_id": item.id,
                        "student_id": won.student_id,
                        "course_id": item.course_id,
                        "status": OUTBOX_PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for item in items
                ]
            )
            .on_conflict_do_nothing(index_elements=["order_item_id"])
        )
    runtime.log.info("order %s paid (%s); %d enrollment(s) queued", order_id, source, len(items))
    return Outcome("fulfilled", order_id, wake=True)


async def duplicate_orders(session: AsyncSession, order_id: str, student_id: str) -> dict[str, list[str]]:
    """Other PAID orders of the student sharing a course with this order: ``{order id: [course ids]}``."""
    mine = select(order_items.c.course_id).where(order_items.c.order_id == order_id)
    rows = (
        await session.execute(
            select(orders.c.id, order_items.c.course_id)
            .join(order_items, order_items.c.order_id == orders.c.id)
            .where(
                orders.c.student_id == student_id,
                orders.c.status == PAID,
                orders.c.id != order_id,
                order_items.c.course_id.in_(mine),
            )
            .order_by(orders.c.id, order_items.c.course_id)
        )
    ).all()
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row.id, []).append(row.course_id)
    return found


async def _warn_duplicate(
    session: AsyncSession, runtime: PluginRuntime, order_id: str, student_id: str, superseded: bool, session_id: str
) -> None:
    others = await duplicate_orders(session, order_id, student_id)
    if superseded:
        runtime.log.warning(
            "order %s: student %s paid checkout session %s, which a newer checkout had superseded; fulfilled anyway%s",
            order_id,
            student_id,
            session_id,
            f" — duplicate payment of paid order(s) {others}: refund one manually" if others else "",
        )
    elif others:
        runtime.log.warning(
            "order %s: student %s paid again for course(s) of paid order(s) %s: duplicate payment, refund one manually",
            order_id,
            student_id,
            others,
        )


async def cancel_in(session: AsyncSession, order_id: str, session_id: str) -> Outcome:
    """PENDING→CANCELLED (expired session, failed async payment, buyer cancelled on the dev page)."""
    now = utcnow()
    won = (
        await session.execute(
            update(orders)
            .where(orders.c.id == order_id, orders.c.status == PENDING, _session_matches(session_id))
            .values(status=CANCELLED, updated_at=now)
            .returning(orders.c.id)
        )
    ).first()
    if won is None:
        return Outcome("unchanged", order_id)
    await release_in(session, order_id)
    return Outcome("cancelled", order_id)


async def supersede_in(session: AsyncSession, order_id: str, *, session_stored: bool = True) -> bool:
    """PENDING→CANCELLED because a newer checkout of the same buyer replaces it (compare-and-set).

    The caller has expired the order's provider session first (or the order has none:
    ``session_stored=False`` only matches an order whose session id was never stored). Returns
    whether this call cancelled it.
    """
    now = utcnow()
    where = [orders.c.id == order_id, orders.c.status == PENDING]
    if not session_stored:
        where.append(orders.c.provider_session_id.is_(None))
    won = (
        await session.execute(
            update(orders)
            .where(*where)
            .values(status=CANCELLED, superseded_at=now, updated_at=now)
            .returning(orders.c.id)
        )
    ).first()
    if won is not None:
        await release_in(session, order_id)
    return won is not None


async def refund_in(session: AsyncSession, runtime: PluginRuntime, charge: dict[str, Any]) -> Outcome:
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
    now = utcnow()
    payment = (
        await session.execute(
            update(payments)
            .where(payments.c.provider_reference == reference)
            .values(
                status="refunded" if full else "partially_refunded",
                amount_refunded_cents=refunded_cents if isinstance(refunded_cents, int) else payments.c.amount_cents,
                updated_at=now,
            )
            .returning(payments.c.order_id)
        )
    ).first()
    if payment is None:
        runtime.log.warning("refund of unknown payment %s ignored", reference)
        return Outcome("unknown_payment")
    if not full:
        return Outcome("partially_refunded", payment.order_id)
    won = (
        await session.execute(
            update(orders)
            .where(orders.c.id == payment.order_id, orders.c.status == PAID)
            .values(status=REFUNDED, updated_at=now)
            .returning(orders.c.id)
        )
    ).first()
    if won is None:
        return Outcome("already_refunded", payment.order_id)
    box = enrollment_outbox.c
    await session.execute(
        update(enrollment_outbox)
        .where(
            box.order_id == payment.order_id,
            box.status.not_in((OUTBOX_REVOKE_PENDING, OUTBOX_REVOKED, OUTBOX_REVOKE_FAILED)),
        )
        .values(
            status=OUTBOX_REVOKE_PENDING,
            attempts=0,
            last_error=None,
            next_attempt_at=case((box.claim_token.is_not(None), box.next_attempt_at), else_=now),
            claim_token=None,
            updated_at=now,
        )
    )
    runtime.log.info("order %s refunded; enrollments will be revoked", payment.order_id)
    return Outcome("refunded", payment.order_id, wake=True)
