"""Settling the buyer's earlier checkouts of the same courses before a new one opens.

See :mod:`byway_ecommerce.open_checkout` for the order of work; this module holds the steps:
finding the overlapping orders (ALREADY_ENROLLED when one is PAID), refusing when one was paid
meanwhile (it is fulfilled on the spot), deciding whether one can be reused, and waiting for (or
superseding) orders whose session another request is still opening.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from byway import AlreadyEnrolled, Conflict, UpstreamUnavailable, utcnow
from byway_ecommerce.models import PAID
from byway_ecommerce.providers import LineItem, ProviderError, ProviderSession
from byway_ecommerce.settlement import apply_session
from byway_ecommerce.state import state_of
from byway_ecommerce.store import checkouts as store
from byway_ecommerce.store import orders as order_store
from byway_ecommerce.store.checkouts import Candidate

if TYPE_CHECKING:
    from byway import PluginRuntime

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


async def candidates(plugin: PluginRuntime, wanted: Wanted, since: datetime) -> list[Candidate]:
    """The buyer's orders overlapping the cart that are (or may be) PENDING; ALREADY_ENROLLED if one is PAID."""
    async with plugin.sessions() as session:
        bought = await store.paid_courses(session, wanted.student_id, wanted.course_ids)
        for line in wanted.lines:
            if bought.get(line.course_id) == PAID:
                raise AlreadyEnrolled(
                    f"You already paid for course: {line.title}; it is being added to your courses",
                    course_id=line.course_id,
                    course_title=line.title,
                )
        if bought:
            line = next(line for line in wanted.lines if line.course_id in bought)
            raise Conflict(
                f"A payment for course {line.title} is being reviewed; wait for it to be resolved",
                courseId=line.course_id,
            )
        return await store.candidates(session, wanted.student_id, wanted.course_ids, since)


async def provider_call(plugin: PluginRuntime, action: str, candidate: Candidate) -> ProviderSession | None:
    provider = state_of(plugin).provider
    assert candidate.session_id is not None
    try:
        if action == "expire":
            return await provider.expire_session(candidate.session_id)
        return await provider.retrieve_session(candidate.session_id)
    except ProviderError as exc:
        plugin.log.warning("cannot %s session %s of order %s: %s", action, candidate.session_id, candidate.id, exc)
        raise UpstreamUnavailable(
            "The payment provider is unavailable, so an earlier checkout of these courses could not be closed; "
            "nothing was created. Please try again.",
            orderId=candidate.id,
        ) from exc


async def refuse_if_bought(
    plugin: PluginRuntime,
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
        outcome = await apply_session(plugin, candidate.id, checkout, source="checkout")
        plugin.log.info(
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


def reusable(plugin: PluginRuntime, wanted: Wanted, candidate: Candidate, checkout: ProviderSession | None) -> bool:
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
    lifetime = state_of(plugin).provider.session_lifetime
    now = utcnow()
    closes = checkout.expires_at or candidate.created_at + lifetime
    return candidate.created_at >= now - lifetime and closes - now >= min(REUSE_MARGIN, lifetime / 4)


async def wait_or_supersede(plugin: PluginRuntime, opening: list[Candidate], give_up: float) -> None:
    """Orders whose session another request is opening: supersede those whose creator must have died,
    wait (briefly) for the others; UPSTREAM_UNAVAILABLE when they take too long."""
    deadline = state_of(plugin).provider.creation_deadline
    now = utcnow()
    dead = [c for c in opening if now - c.created_at > deadline]
    if dead:
        async with plugin.sessions() as session, session.begin():
            for candidate in dead:
                if await order_store.supersede(session, candidate.id, session_stored=False):
                    plugin.log.warning("order %s never got a checkout session; superseded", candidate.id)
        return
    orphan_at = time.monotonic() + min(deadline - (now - c.created_at) for c in opening).total_seconds()
    until = min(give_up, orphan_at)
    ids = [c.id for c in opening]
    while True:
        async with plugin.sessions() as session:
            waiting = await store.any_still_opening(session, ids)
        if not waiting:
            return
        if time.monotonic() >= until:
            if orphan_at <= give_up:
                return  # next round supersedes it
            raise UpstreamUnavailable(
                "Another checkout of these courses is still being opened; please try again in a moment"
            )
        await asyncio.sleep(POLL_SECONDS)
