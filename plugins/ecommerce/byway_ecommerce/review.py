"""Orders held for review: paid, but not the order's amount or currency.

The webhook (or any fulfilment path) records such a payment and puts the order in ``REVIEW``
instead of fulfilling it (:func:`byway_ecommerce.fulfilment.fulfil_in`). Admins find them in
reconcile's summary (``review``) and with ``myOrders(status: REVIEW)``, and resolve each with
``resolveOrderReview(orderId, action)``:

* ``FULFIL`` — accept the payment: the order becomes PAID, its enrollments and receipt are queued;
* ``MARK_REFUNDED`` — the money was returned at the provider by hand: the order and its Payment
  become refunded, nothing is enrolled, the buyer gets the refund notice.

Each resolution is compare-and-set (two admins cannot both resolve one order) and audited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from byway import BadUserInput, Conflict, NotFound, Principal, record_audit, require_admin
from byway_ecommerce import emails, workers
from byway_ecommerce.models import PAID, REFUNDED, REVIEW, audit_log
from byway_ecommerce.store import history, payments
from byway_ecommerce.store import orders as store
from byway_ecommerce.store import outbox as outbox_store

if TYPE_CHECKING:
    from byway import PluginRuntime

FULFIL = "FULFIL"
MARK_REFUNDED = "MARK_REFUNDED"


async def resolve_review(
    plugin: PluginRuntime, principal: Principal, order_id: str, action: str, client_address: str | None
) -> dict[str, Any]:
    """The ``resolveOrderReview`` mutation: the order afterwards."""
    require_admin(principal)
    if action not in (FULFIL, MARK_REFUNDED):
        raise BadUserInput("action must be FULFIL or MARK_REFUNDED", field="action")
    async with plugin.sessions() as session, session.begin():
        won = await store.resolve_review(session, order_id, PAID if action == FULFIL else REFUNDED)
        if won is None:
            status = await store.status_of(session, order_id)
            if status is None:
                raise NotFound(f"No order {order_id}", field="orderId")
            raise Conflict(f"Order {order_id} is {status}, not in review", orderId=order_id, status=status)
        if action == FULFIL:
            await outbox_store.queue_enrollments(session, order_id, won.student_id)
            await emails.queue(plugin, session, order_id, emails.RECEIPT)
        else:
            await payments.mark_refunded_by_hand(session, order_id)
            await emails.queue(plugin, session, order_id, emails.REFUND)
        await record_audit(
            session,
            audit_log,
            principal=principal,
            action=f"orders.review.{action.lower()}",
            target=order_id,
            details={"studentId": won.student_id},
            client_address=client_address,
        )
        (order,) = await history.orders_by_ids(session, [order_id])
    plugin.log.warning("order %s in review resolved by %s: %s", order_id, principal.user_id, action)
    workers.wake(plugin)
    return order


__all__ = ["FULFIL", "MARK_REFUNDED", "REVIEW", "resolve_review"]
