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

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from byway.db import insert_for, new_id, utcnow
from byway.errors import AlreadyEnrolled, Conflict, UpstreamUnavailable
from byway_ecommerce.fulfilment import cancel_in, release_in, supersede_in
from byway_ecommerce.models import CANCELLED, PAID, PENDING, active_checkouts, order_items, orders
from byway_ecommerce.providers import CheckoutRequest, LineItem, ProviderError, ProviderSession
from byway_ecommerce.state import state_of
from byway_ecommerce.verify import apply_session

if TYPE_CHECKING:
    from byway.runtime import PluginRuntime

#: Rounds of settle-then-insert before giving up (one to three in practice; each lost round means
#: another request of the same buyer completed).
MAX_ROUNDS = 50
#: Recent PENDING orders of the buyer looked at per round.
MAX_CANDIDATES = 20
#: How long a request waits, in all, for other requests opening sessions of the same courses.
WAIT_SECONDS = 15.0
POLL_SECONDS = 0.05
#: A session is reused only while it stays open at least this long (capped at a quarter of its lifetime).
REUSE_MARGIN = timedelta(minutes=10)


@dataclass(frozen=True)
class Wanted:
    """The checkout being asked for."""

    student_id: str
    user_id: str | None
    email: str | None
    success_url: str
    cancel_url: str
    lines: list[LineItem]

    @property
    def course_ids(self) -> list[str]:
        """The cart's courses, in cart order."""
        return [line.course_id for line in self.lines]

    @property
    def priced(self) -> frozenset[tuple[str, int, str]]:
        """``(course, price, currency)`` of every line: what an order must hold to be reused."""
        return frozenset((line.course_id, line.price_cents, line.currency) for line in self.lines)


@dataclass
class Candidate:
    """A PENDING (or stale) order of the buyer overlapping the cart."""

    id: str
    status: str
    session_id: str | None
    created_at: datetime
    email: str | None
    success_url: str
    cancel_url: str
    priced: frozenset[tuple[str, int, str]]
    holds: set[str]

    @property
    def course_ids(self) -> set[str]:
        """The order's courses."""
        return {course_id for course_id, _, _ in self.priced}


async def open_checkout(runtime: PluginRuntime, wanted: Wanted) -> dict[str, Any]:
    """Reuse the buyer's open checkout of exactly this cart, or supersede overlapping ones and open
    a new one: ``{sessionId, url, orderId}`` (see the module docstring)."""
    provider = state_of(runtime).provider
    give_up = time.monotonic() + WAIT_SECONDS
    for _ in range(MAX_ROUNDS):
        candidates = await _candidates(runtime, wanted, utcnow() - provider.session_lifetime)
        if candidates:
            reused = await _settle(runtime, wanted, candidates, give_up)
            if reused is not None:
                return reused
        order_id = await _insert_order(runtime, wanted)
        if order_id is not None:
            return await _open_session(runtime, wanted, order_id)
    raise UpstreamUnavailable("Too many checkouts of these courses are being opened at once; please try again")


async def _candidates(runtime: PluginRuntime, wanted: Wanted, since: datetime) -> list[Candidate]:
    """The buyer's orders overlapping the cart that are (or may be) PENDING; ALREADY_ENROLLED if one is PAID."""
    course_ids = wanted.course_ids
    async with runtime.sessions() as session:
        bought = set(
            (
                await session.execute(
                    select(order_items.c.course_id)
                    .join(orders, orders.c.id == order_items.c.order_id)
                    .where(
                        orders.c.student_id == wanted.student_id,
                        orders.c.status == PAID,
                        order_items.c.course_id.in_(course_ids),
                    )
                )
            ).scalars()
        )
        if bought:
            line = next(line for line in wanted.lines if line.course_id in bought)
            raise AlreadyEnrolled(
                f"You already paid for course: {line.title}; it is being added to your courses",
                course_id=line.course_id,
                course_title=line.title,
            )
        held = (
            await session.execute(
                select(active_checkouts.c.course_id, active_checkouts.c.order_id).where(
                    active_checkouts.c.student_id == wanted.student_id, active_checkouts.c.course_id.in_(course_ids)
                )
            )
        ).all()
        recent = (
            await session.execute(
                select(orders.c.id)
                .distinct()
                .join(order_items, order_items.c.order_id == orders.c.id)
                .where(
                    orders.c.student_id == wanted.student_id,
                    orders.c.status == PENDING,
                    orders.c.created_at >= since,
                    order_items.c.course_id.in_(course_ids),
                )
                .limit(MAX_CANDIDATES)
            )
        ).scalars()
        ids = {row.order_id for row in held} | set(recent)
        if not ids:
            return []
        found = (await session.execute(select(orders).where(orders.c.id.in_(ids)))).all()
        items = (
            await session.execute(
                select(
                    order_items.c.order_id, order_items.c.course_id, order_items.c.price_cents, order_items.c.currency
                ).where(order_items.c.order_id.in_(ids))
            )
        ).all()
    candidates = []
    for row in sorted(found, key=lambda r: r.created_at):
        candidates.append(
            Candidate(
                id=row.id,
                status=row.status,
                session_id=row.provider_session_id,
                created_at=row.created_at,
                email=row.email,
                success_url=row.success_url,
                cancel_url=row.cancel_url,
                priced=frozenset((i.course_id, i.price_cents, i.currency) for i in items if i.order_id == row.id),
                holds={h.course_id for h in held if h.order_id == row.id},
            )
        )
    return candidates


async def _settle(
    runtime: PluginRuntime, wanted: Wanted, candidates: list[Candidate], give_up: float
) -> dict[str, Any] | None:
    """Settle the overlapping orders: the payload of the one to reuse, or None (then try to insert)."""
    stale = [c for c in candidates if c.status != PENDING]
    if stale:
        # Left PENDING since we looked, or guard rows never released (e.g. an order edited by hand).
        async with runtime.sessions() as session, session.begin():
            for candidate in stale:
                await release_in(session, candidate.id)
        candidates = [c for c in candidates if c.status == PENDING]
    opening = [c for c in candidates if c.session_id is None]
    if opening:
        await _wait_or_supersede(runtime, opening, give_up)
        return None

    sessions: dict[str, ProviderSession | None] = {}
    for candidate in candidates:
        sessions[candidate.id] = await _provider_call(runtime, "read", candidate)
    await _refuse_if_bought(runtime, wanted, candidates, sessions)

    reuse = next((c for c in candidates if _reusable(runtime, wanted, c, sessions[c.id])), None)
    for candidate in candidates:
        if candidate is reuse:
            continue
        checkout = sessions[candidate.id]
        if checkout is not None and checkout.is_expired:
            # It closed by itself (an expiry event may be on its way): a plain cancellation.
            async with runtime.sessions() as session, session.begin():
                await cancel_in(session, candidate.id, checkout.id)
            continue
        if checkout is not None and checkout.is_open:
            checkout = await _provider_call(runtime, "expire", candidate)
            if checkout is not None and not checkout.is_expired:
                # The buyer completed it meanwhile: it is theirs.
                await _refuse_if_bought(runtime, wanted, [candidate], {candidate.id: checkout})
                raise UpstreamUnavailable("The payment provider did not close an earlier checkout; please try again")
        # Expired by us just now, or unknown to the provider: superseded by the new checkout.
        async with runtime.sessions() as session, session.begin():
            won = await supersede_in(session, candidate.id)
        if won:
            runtime.log.info(
                "order %s superseded by a new checkout of student %s (session %s closed)",
                candidate.id,
                wanted.student_id,
                candidate.session_id,
            )
    if reuse is None:
        return None
    checkout = sessions[reuse.id]
    assert checkout is not None  # _reusable checked it
    runtime.log.info("checkout of order %s reused for student %s", reuse.id, wanted.student_id)
    return {"sessionId": checkout.id, "url": checkout.url, "orderId": reuse.id}


async def _provider_call(runtime: PluginRuntime, action: str, candidate: Candidate) -> ProviderSession | None:
    provider = state_of(runtime).provider
    assert candidate.session_id is not None
    try:
        if action == "expire":
            return await provider.expire_session(candidate.session_id)
        return await provider.retrieve_session(candidate.session_id)
    except ProviderError as exc:
        runtime.log.warning("cannot %s session %s of order %s: %s", action, candidate.session_id, candidate.id, exc)
        raise UpstreamUnavailable(
            "The payment provider is unavailable, so an earlier checkout of these courses could not be closed; "
            "nothing was created. Please try again.",
            orderId=candidate.id,
        ) from exc


async def _refuse_if_bought(
    runtime: PluginRuntime,
    wanted: Wanted,
    candidates: list[Candidate],
    sessions: dict[str, ProviderSession | None],
) -> None:
    """Fulfil every paid session (idempotent) and refuse the checkout: ALREADY_ENROLLED (paid) or
    CONFLICT (completed, asynchronous payment still in progress)."""
    paid = [c for c in candidates if (s := sessions[c.id]) is not None and s.is_paid]
    for candidate in paid:
        checkout = sessions[candidate.id]
        assert checkout is not None
        outcome = await apply_session(runtime, candidate.id, checkout, source="checkout")
        runtime.log.info(
            "checkout of student %s refused: order %s was already paid (%s)",
            wanted.student_id,
            candidate.id,
            outcome.result,
        )
    if paid:
        owned = set().union(*(c.course_ids for c in paid))
        line = next(line for line in wanted.lines if line.course_id in owned)
        raise AlreadyEnrolled(
            f"You already paid for course: {line.title}; it is being added to your courses",
            course_id=line.course_id,
            course_title=line.title,
        )
    for candidate in candidates:
        checkout = sessions[candidate.id]
        if checkout is not None and checkout.status == "complete":
            line = next(line for line in wanted.lines if line.course_id in candidate.course_ids)
            raise Conflict(
                f"A payment for course {line.title} is still being processed; wait until it completes",
                courseId=line.course_id,
                orderId=candidate.id,
            )


def _reusable(runtime: PluginRuntime, wanted: Wanted, candidate: Candidate, checkout: ProviderSession | None) -> bool:
    """Exactly this cart at today's prices, same URLs and email, guard rows held, open for a while yet."""
    if checkout is None or not checkout.is_open or not checkout.url or checkout.id != candidate.session_id:
        return False
    if (candidate.priced, candidate.success_url, candidate.cancel_url, candidate.email) != (
        wanted.priced,
        wanted.success_url,
        wanted.cancel_url,
        wanted.email,
    ):
        return False
    if candidate.holds != set(wanted.course_ids):
        return False
    lifetime = state_of(runtime).provider.session_lifetime
    now = utcnow()
    closes = checkout.expires_at or candidate.created_at + lifetime
    return candidate.created_at >= now - lifetime and closes - now >= min(REUSE_MARGIN, lifetime / 4)


async def _wait_or_supersede(runtime: PluginRuntime, opening: list[Candidate], give_up: float) -> None:
    """Orders whose session another request is opening: supersede those whose creator must have died,
    wait (briefly) for the others; UPSTREAM_UNAVAILABLE when they take too long."""
    deadline = state_of(runtime).provider.creation_deadline
    now = utcnow()
    dead = [c for c in opening if now - c.created_at > deadline]
    if dead:
        async with runtime.sessions() as session, session.begin():
            for candidate in dead:
                if await supersede_in(session, candidate.id, session_stored=False):
                    runtime.log.warning("order %s never got a checkout session; superseded", candidate.id)
        return
    orphan_at = time.monotonic() + min(deadline - (now - c.created_at) for c in opening).total_seconds()
    until = min(give_up, orphan_at)
    ids = [c.id for c in opening]
    while True:
        async with runtime.sessions() as session:
            waiting = (
                await session.execute(
                    select(orders.c.id).where(
                        orders.c.id.in_(ids), orders.c.status == PENDING, orders.c.provider_session_id.is_(None)
                    )
                )
            ).first()
        if waiting is None:
            return
        if time.monotonic() >= until:
            if orphan_at <= give_up:
                return  # next round supersedes it
            raise UpstreamUnavailable(
                "Another checkout of these courses is still being opened; please try again in a moment"
            )
        await asyncio.sleep(POLL_SECONDS)


class _Taken(Exception):
    """Another order holds one of the courses: roll back and go round again."""


async def _insert_order(runtime: PluginRuntime, wanted: Wanted) -> str | None:
    """The PENDING order, its snapshots and its guard rows in one transaction; None if a course is held."""
    order_id = new_id()
    lines = wanted.lines
    now = utcnow()
    try:
        async with runtime.sessions() as session, session.begin():
            await session.execute(
                insert(orders).values(
                    id=order_id,
                    student_id=wanted.student_id,
                    user_id=wanted.user_id,
                    email=wanted.email,
                    status=PENDING,
                    total_cents=sum(line.price_cents for line in lines),
                    currency=lines[0].currency,
                    provider=state_of(runtime).provider.name,
                    success_url=wanted.success_url,
                    cancel_url=wanted.cancel_url,
                    created_at=now,
                    updated_at=now,
                )
            )
            await session.execute(
                insert(order_items).values(
                    [
                        {
                            "id": new_id(),
                            "order_id": order_id,
                            "course_id": line.course_id,
                            "title": line.title,
                            "price_cents": line.price_cents,
                            "currency": line.currency,
                            "position": position,
                        }
                        for position, line in enumerate(lines)
                    ]
                )
            )
            claimed = (
                await session.execute(
                    insert_for(session)(active_checkouts)
                    .values(
                        [
                            {
                                "student_id": wanted.student_id,
                                "course_id": course_id,
                                "order_id": order_id,
                                "created_at": now,
                            }
                            for course_id in sorted(wanted.course_ids)
                        ]
                    )
                    .on_conflict_do_nothing(index_elements=["student_id", "course_id"])
                    .returning(active_checkouts.c.course_id)
                )
            ).all()
            if len(claimed) != len(lines):
                raise _Taken
    except _Taken:
        return None
    return order_id


async def _open_session(runtime: PluginRuntime, wanted: Wanted, order_id: str) -> dict[str, Any]:
    """The provider's Checkout Session for a new order (idempotency key per order)."""
    provider = state_of(runtime).provider
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
        runtime.log.warning("checkout session for order %s failed: %s", order_id, exc)
        async with runtime.sessions() as session, session.begin():
            cancelled = (
                await session.execute(
                    update(orders)
                    .where(orders.c.id == order_id, orders.c.status == PENDING)
                    .values(status=CANCELLED, updated_at=utcnow())
                    .returning(orders.c.id)
                )
            ).first()
            if cancelled is not None:
                await release_in(session, order_id)
        raise UpstreamUnavailable(
            "The payment provider is unavailable; nothing was charged. Please try again.", orderId=order_id
        ) from exc
    async with runtime.sessions() as session, session.begin():
        stored = (
            await session.execute(
                update(orders)
                .where(orders.c.id == order_id, orders.c.status == PENDING, orders.c.provider_session_id.is_(None))
                .values(provider_session_id=checkout.id, updated_at=utcnow())
                .returning(orders.c.id)
            )
        ).first()
    if stored is None:
        # Taken for dead and superseded while the provider was slow: close the session we just opened.
        runtime.log.warning("order %s was superseded while its session %s was opened", order_id, checkout.id)
        try:
            await provider.expire_session(checkout.id)
        except ProviderError as exc:
            runtime.log.error("cannot expire session %s of superseded order %s: %s", checkout.id, order_id, exc)
        raise UpstreamUnavailable("The payment provider was too slow; nothing was charged. Please try again.")
    return {"sessionId": checkout.id, "url": checkout.url, "orderId": order_id}
