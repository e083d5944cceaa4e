"""Asking the provider about an order's session and applying the answer.

Shared by ``verifyCheckout``, reconcile and ``createCheckout`` (a paid earlier checkout is
fulfilled on the spot): the same idempotent fulfilment as the webhook, in its own transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from byway_ecommerce import workers
from byway_ecommerce.fulfilment import Outcome, cancel_in, fulfil_in
from byway_ecommerce.providers import ProviderError, ProviderSession
from byway_ecommerce.state import state_of

if TYPE_CHECKING:
    from byway import PluginRuntime


async def settle_with_provider(plugin: PluginRuntime, order_id: str, session_id: str, *, source: str) -> Outcome:
    """Ask the provider about a PENDING order's session: fulfil it if paid, cancel it if expired."""
    try:
        checkout = await state_of(plugin).provider.retrieve_session(session_id)
    except ProviderError as exc:
        plugin.log.warning("cannot read session %s of order %s: %s", session_id, order_id, exc)
        return Outcome("provider_unavailable", order_id)
    if checkout is None:
        return Outcome("unknown_session", order_id)
    return await apply_session(plugin, order_id, checkout, source=source)


async def apply_session(plugin: PluginRuntime, order_id: str, checkout: ProviderSession, *, source: str) -> Outcome:
    """Apply what the provider says about a session to its order (own transaction, compare-and-set)."""
    if checkout.is_paid:
        async with plugin.sessions() as session, session.begin():
            outcome = await fulfil_in(session, plugin, order_id, checkout, source=source, raw=checkout.raw)
        if outcome.wake:
            workers.wake(plugin)
        return outcome
    if checkout.is_expired:
        async with plugin.sessions() as session, session.begin():
            return await cancel_in(session, order_id, checkout.id)
    return Outcome("awaiting_payment", order_id)
