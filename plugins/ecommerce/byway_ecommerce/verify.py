"""``verifyCheckout(sessionId)``: the success page asks whether the purchase is complete — and completes it.

The session id is a capability: only the buyer's browser gets it (Stripe appends it to the success
URL), it is long and random, and the answer reveals only ``{ok, orderId, status}``. So an
anonymous caller holding it may verify (a buyer who paid without logging in, or whose success
page has no token). A logged-in caller must be the buyer's user, an admin or a service: another
user gets FORBIDDEN.

If the order is still PENDING the provider is asked for the session; if it is paid, the same
idempotent fulfilment as the webhook runs (webhook and redirect racing each other give one
Payment and one outbox row per item). Then the order's due outbox rows are delivered inline and
rows another worker is delivering are awaited briefly, so ``ok`` (PAID and every enrollment
delivered) is usually true on the first call after paying.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from byway.auth import Principal
from byway.errors import BadUserInput, Forbidden, NotFound
from byway_ecommerce import outbox
from byway_ecommerce.fulfilment import Outcome, cancel_in, fulfil_in
from byway_ecommerce.models import (
    OUTBOX_DONE,
    PAID,
    PENDING,
    PROVIDER_ID_LENGTH,
    enrollment_outbox,
    orders,
)
from byway_ecommerce.providers import ProviderError, ProviderSession
from byway_ecommerce.state import state_of

if TYPE_CHECKING:
    from byway.runtime import PluginRuntime

POLL_SECONDS = 0.05


async def settle_with_provider(runtime: PluginRuntime, order_id: str, session_id: str, *, source: str) -> Outcome:
    """Ask the provider about a PENDING order's session: fulfil it if paid, cancel it if expired."""
    try:
        checkout = await state_of(runtime).provider.retrieve_session(session_id)
    except ProviderError as exc:
        runtime.log.warning("cannot read session %s of order %s: %s", session_id, order_id, exc)
        return Outcome("provider_unavailable", order_id)
    if checkout is None:
        return Outcome("unknown_session", order_id)
    return await apply_session(runtime, order_id, checkout, source=source)


async def apply_session(runtime: PluginRuntime, order_id: str, checkout: ProviderSession, *, source: str) -> Outcome:
    """Apply what the provider says about a session to its order (own transaction, compare-and-set)."""
    if checkout.is_paid:
        async with runtime.sessions() as session, session.begin():
            outcome = await fulfil_in(session, runtime, order_id, checkout, source=source, raw=checkout.raw)
        if outcome.wake:
            outbox.wake(runtime)
        return outcome
    if checkout.is_expired:
        async with runtime.sessions() as session, session.begin():
            return await cancel_in(session, order_id, checkout.id)
    return Outcome("awaiting_payment", order_id)


async def _rows(runtime: PluginRuntime, order_id: str) -> list[Any]:
    box = enrollment_outbox.c
    async with runtime.sessions() as session:
        return list((await session.execute(select(box.status, box.claim_token).where(box.order_id == order_id))).all())


async def verify_checkout(runtime: PluginRuntime, principal: Principal, session_id: Any) -> dict[str, Any]:
    """The ``verifyCheckout`` operation: ``{ok, orderId, status}``."""
    if not isinstance(session_id, str) or not session_id or len(session_id) > PROVIDER_ID_LENGTH:
        raise BadUserInput("sessionId must be a checkout session id", field="sessionId")
    async with runtime.sessions() as session:
        order = (
            await session.execute(
                select(orders.c.id, orders.c.status, orders.c.user_id).where(orders.c.provider_session_id == session_id)
            )
        ).first()
    if order is None:
        raise NotFound("No order has this checkout session", field="sessionId")
    if principal.is_user and not principal.is_admin and principal.user_id != order.user_id:
        raise Forbidden("This checkout belongs to another user")
    status = order.status
    if status == PENDING:
        await settle_with_provider(runtime, order.id, session_id, source="verify")
        async with runtime.sessions() as session:
            status = (await session.execute(select(orders.c.status).where(orders.c.id == order.id))).scalar_one()
    delivered = False
    if status == PAID:
        await outbox.drain(runtime, order_id=order.id)
        deadline = time.monotonic() + state_of(runtime).config.verify_wait_seconds
        while True:
            rows = await _rows(runtime, order.id)
            delivered = bool(rows) and all(row.status == OUTBOX_DONE for row in rows)
            in_flight = any(row.claim_token is not None for row in rows)
            if delivered or not in_flight or time.monotonic() >= deadline:
                break
            await asyncio.sleep(POLL_SECONDS)
    return {"ok": status == PAID and delivered, "orderId": order.id, "status": status}
