"""Opening a checkout: at most one live checkout per buyer and course.

A buyer who opens two checkouts for the same course (two tabs, a double click, a retry after a
timeout) must not be able to pay twice. Before a new order is created, the buyer's PENDING orders
that hold any of the requested courses are settled with the provider, in this order:

0. a PAID order of the buyer with any of the courses refuses the checkout with ALREADY_ENROLLED
   (its enrollment may still be on its way through the outbox);
1. found: the orders holding the courses in ``active_checkouts`` (one row per student and course
   of every PENDING order, primary key ``(student_id, course_id)``), plus the buyer's PENDING
   orders created within the provider's session lifetime that contain any of the courses;
2. an order whose session is still being opened by another request is waited for (briefly); one
   whose creator died (older than the provider's creation deadline, no session) is superseded;
3. every session is retrieved: a PAID one is fulfilled right here (the same idempotent fulfilment
   as the webhook and ``verifyCheckout``) and the new checkout is refused with ALREADY_ENROLLED;
   a completed one still awaiting an asynchronous payment refuses it with CONFLICT;
4. an order with exactly the same courses at the current prices, currency, URLs and email, whose
   session is open for a while yet and which holds the guard rows, is returned as it is
   (idempotent checkout: no new rows, no new session);
5. every other overlapping order is superseded: its session is expired at the provider (Stripe
   ``checkout.sessions.expire``; dev: the session is marked expired and its Pay button refuses),
   then the order is CANCELLED with ``superseded_at`` (compare-and-set) and its guard rows go. A
   session the provider reports complete when we try to expire it is fulfilled instead (step 3).
   If the provider cannot be reached, the caller gets UPSTREAM_UNAVAILABLE and nothing is created.

Only then is the order inserted, together with its guard rows (``INSERT ... ON CONFLICT DO
NOTHING RETURNING``, in course-id order so concurrent carts cannot deadlock on Postgres). A
request that loses the race for a row rolls back and goes round again: it finds the winner's
order, waits for its session, and reuses it (same cart) or supersedes it (another cart). The
guard rows are released in the transaction that moves the order out of PENDING
(:mod:`byway_ecommerce.fulfilment`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from byway import UpstreamUnavailable, utcnow
from byway_ecommerce.fulfilment import cancel_in
from byway_ecommerce.models import PENDING
from byway_ecommerce.providers import CheckoutRequest, ProviderError, ProviderSession
from byway_ecommerce.state import state_of
from byway_ecommerce.store import orders as store
from byway_ecommerce.store.checkouts import Candidate
from byway_ecommerce.supersede import (
    Wanted,
    candidates,
    provider_call,
    refuse_if_bought,
    reusable,
    wait_or_supersede,
)

if TYPE_CHECKING:
    from byway import PluginRuntime

#: Rounds of settle-then-insert before giving up (one to three in practice; each lost round means
#: another request of the same buyer completed).
MAX_ROUNDS = 50
#: How long a request waits, in all, for other requests opening sessions of the same courses.
WAIT_SECONDS = 15.0

__all__ = ["Wanted", "open_checkout"]


async def open_checkout(plugin: PluginRuntime, wanted: Wanted) -> dict[str, Any]:
    """Reuse the buyer's open checkout of exactly this cart, or supersede overlapping ones and open
    a new one: ``{sessionId, url, orderId}`` (see the module docstring)."""
    provider = state_of(plugin).provider
    give_up = time.monotonic() + WAIT_SECONDS
    for _ in range(MAX_ROUNDS):
        found = await candidates(plugin, wanted, utcnow() - provider.session_lifetime)
        if found:
            reused = await _settle(plugin, wanted, found, give_up)
            if reused is not None:
                return reused
        order_id = await _insert_order(plugin, wanted)
        if order_id is not None:
            return await _open_session(plugin, wanted, order_id)
    raise UpstreamUnavailable("Too many checkouts of these courses are being opened at once; please try again")


async def _settle(
    plugin: PluginRuntime, wanted: Wanted, candidates: list[Candidate], give_up: float
) -> dict[str, Any] | None:
    """Settle the overlapping orders: the payload of the one to reuse, or None (then try to insert)."""
    stale = [c for c in candidates if c.status != PENDING]
    if stale:
        # Left PENDING since we looked, or guard rows never released (e.g. an order edited by hand).
        async with plugin.sessions() as session, session.begin():
            for candidate in stale:
                await store.release(session, candidate.id)
        candidates = [c for c in candidates if c.status == PENDING]
    opening = [c for c in candidates if c.session_id is None]
    if opening:
        await wait_or_supersede(plugin, opening, give_up)
        return None

    sessions: dict[str, ProviderSession | None] = {}
    for candidate in candidates:
        sessions[candidate.id] = await provider_call(plugin, "read", candidate)
    await refuse_if_bought(plugin, wanted, candidates, sessions)

    reuse = next((c for c in candidates if reusable(plugin, wanted, c, sessions[c.id])), None)
    for candidate in candidates:
        if candidate is reuse:
            continue
        checkout = sessions[candidate.id]
        if checkout is not None and checkout.is_expired:
            # It closed by itself (an expiry event may be on its way): a plain cancellation.
            async with plugin.sessions() as session, session.begin():
                await cancel_in(session, candidate.id, checkout.id)
            continue
        if checkout is not None and checkout.is_open:
            checkout = await provider_call(plugin, "expire", candidate)
            if checkout is not None and not checkout.is_expired:
                # The buyer completed it meanwhile: it is theirs.
                await refuse_if_bought(plugin, wanted, [candidate], {candidate.id: checkout})
                raise UpstreamUnavailable("The payment provider did not close an earlier checkout; please try again")
        # Expired by us just now, or unknown to the provider: superseded by the new checkout.
        async with plugin.sessions() as session, session.begin():
            won = await store.supersede(session, candidate.id)
        if won:
            plugin.log.info(
                "order %s superseded by a new checkout of student %s (session %s closed)",
                candidate.id,
                wanted.student_id,
                candidate.session_id,
            )
    if reuse is None:
        return None
    checkout = sessions[reuse.id]
    assert checkout is not None  # _reusable checked it
    plugin.log.info("checkout of order %s reused for student %s", reuse.id, wanted.student_id)
    return {"sessionId": checkout.id, "url": checkout.url, "orderId": reuse.id}


class _Taken(Exception):
    """Another order holds one of the courses: roll back and go round again."""


async def _insert_order(plugin: PluginRuntime, wanted: Wanted) -> str | None:
    """The PENDING order, its snapshots and its guard rows in one transaction; None if a course is held."""
    lines = [store.NewLine(x.course_id, x.title, x.price_cents, x.currency) for x in wanted.lines]
    try:
        async with plugin.sessions() as session, session.begin():
            order_id, won = await store.insert_order(
                session,
                student_id=wanted.student_id,
                user_id=wanted.user_id,
                email=wanted.email,
                provider=state_of(plugin).provider.name,
                success_url=wanted.success_url,
                cancel_url=wanted.cancel_url,
                lines=lines,
            )
            if won != len(lines):
                raise _Taken
    except _Taken:
        return None
    return order_id


async def _open_session(plugin: PluginRuntime, wanted: Wanted, order_id: str) -> dict[str, Any]:
    """The provider's Checkout Session for a new order (idempotency key per order)."""
    provider = state_of(plugin).provider
    request = CheckoutRequest(
        order_id=order_id,
        line_items=wanted.lines,
        currency=wanted.lines[0].currency,
        success_url=wanted.success_url,
        cancel_url=wanted.cancel_url,
        customer_email=wanted.email,
    )
    try:
        checkout = await provider.create_session(request)
    except ProviderError as exc:
        plugin.log.warning("checkout session for order %s failed: %s", order_id, exc)
        async with plugin.sessions() as session, session.begin():
            await store.cancel_pending(session, order_id)
        raise UpstreamUnavailable(
            "The payment provider is unavailable; nothing was charged. Please try again.", orderId=order_id
        ) from exc
    async with plugin.sessions() as session, session.begin():
        stored = await store.store_session_id(session, order_id, checkout.id)
    if not stored:
        # Taken for dead and superseded while the provider was slow: close the session we just opened.
        plugin.log.warning("order %s was superseded while its session %s was opened", order_id, checkout.id)
        try:
            await provider.expire_session(checkout.id)
        except ProviderError as exc:
            plugin.log.error("cannot expire session %s of superseded order %s: %s", checkout.id, order_id, exc)
        raise UpstreamUnavailable("The payment provider was too slow; nothing was charged. Please try again.")
    return {"sessionId": checkout.id, "url": checkout.url, "orderId": order_id}
