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

from byway import BadUserInput, Forbidden, NotFound, Principal
from byway_ecommerce import outbox
from byway_ecommerce.config import config_of
from byway_ecommerce.models import OUTBOX_DONE, PAID, PENDING, PROVIDER_ID_LENGTH
from byway_ecommerce.settlement import settle_with_provider
from byway_ecommerce.store import orders as order_store
from byway_ecommerce.store import outbox as outbox_store

if TYPE_CHECKING:
    from byway import PluginRuntime

POLL_SECONDS = 0.05


async def verify_checkout(plugin: PluginRuntime, principal: Principal, session_id: Any) -> dict[str, Any]:
    """The ``verifyCheckout`` operation: ``{ok, orderId, status}``."""
    if not isinstance(session_id, str) or not session_id or len(session_id) > PROVIDER_ID_LENGTH:
        raise BadUserInput("sessionId must be a checkout session id", field="sessionId")
    async with plugin.sessions() as session:
        order = await order_store.order_of_session(session, session_id)
    if order is None:
        raise NotFound("No order has this checkout session", field="sessionId")
    if principal.is_user and not principal.is_admin and principal.user_id != order.user_id:
        raise Forbidden("This checkout belongs to another user")
    status = order.status
    if status == PENDING:
        await settle_with_provider(plugin, order.id, session_id, source="verify")
        async with plugin.sessions() as session:
            status = await order_store.status_of(session, order.id)
    delivered = status == PAID and await _delivered(plugin, order.id)
    return {"ok": delivered, "orderId": order.id, "status": status}


async def _delivered(plugin: PluginRuntime, order_id: str) -> bool:
    """Deliver the order's due rows now, then wait (briefly) for rows another worker holds."""
    await outbox.drain(plugin, order_id=order_id)
    deadline = time.monotonic() + config_of(plugin).verify_wait_seconds
    while True:
        async with plugin.sessions() as session:
            rows = await outbox_store.states_of_order(session, order_id)
        delivered = bool(rows) and all(row.status == OUTBOX_DONE for row in rows)
        in_flight = any(row.claim_token is not None for row in rows)
        if delivered or not in_flight or time.monotonic() >= deadline:
            return delivered
        await asyncio.sleep(POLL_SECONDS)
