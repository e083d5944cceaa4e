"""The dev provider delivers its events like Stripe does: durably, and again until the webhook takes them.

Paying (or cancelling) on the dev checkout page stores the session change and the event it owes
the webhook in ONE transaction (:meth:`DevProvider.mark_paid`), claimed by this process for a first
delivery right away. If that delivery fails — or the server dies before it — the row stays
``pending``: the ``dev_deliveries`` job (every ``dev_delivery_interval_seconds``) delivers due rows
again with exponential backoff, and a restarted server frees its dead predecessor's claims and
delivers them at start-up (:mod:`byway_ecommerce.leases`). The webhook records event ids, so a
repeated delivery is a no-op. After ``dev_delivery_max_attempts`` a row is ``failed`` (ERROR log);
``verifyCheckout`` and reconcile still settle the order by asking the provider.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from byway import utcnow
from byway_ecommerce import leases, webhook
from byway_ecommerce.config import config_of
from byway_ecommerce.dev_events import signed_payload
from byway_ecommerce.models import DELIVERY_DONE, DELIVERY_FAILED
from byway_ecommerce.state import waker, webhook_secret
from byway_ecommerce.store import dev as store

if TYPE_CHECKING:
    from byway import PluginRuntime

#: Rows one drain claims at once.
BATCH = 50


async def _attempt(plugin: PluginRuntime, row: Any, owner: str) -> int:
    """Deliver one claimed event to the webhook code and record the outcome; the HTTP status it answered."""
    config = config_of(plugin)
    payload, signature = signed_payload(json.loads(row.event), webhook_secret(plugin))
    try:
        status, body = await webhook.handle_webhook(plugin, payload, signature)
    except Exception as exc:  # the database went away mid-way, a bug: retried like a 500
        plugin.log.exception("dev event %s: delivery failed", row.id)
        status, body = 500, {"error": f"{type(exc).__name__}: {exc}"}
    if status == 200:
        values: dict[str, Any] = {"status": DELIVERY_DONE, "last_error": None}
    elif row.attempts >= config.dev_delivery_max_attempts:
        values = {"status": DELIVERY_FAILED, "last_error": f"HTTP {status}: {body}"[:1000]}
        plugin.log.error("dev event %s (session %s) given up after %d deliveries", row.id, row.session_id, row.attempts)
    else:
        delay = timedelta(seconds=config.backoff_seconds(row.attempts))
        values = {"last_error": f"HTTP {status}: {body}"[:1000], "next_attempt_at": utcnow() + delay}
    async with plugin.sessions() as session, session.begin():
        await store.finish_delivery(session, row.id, owner, values)
    return status


async def deliver_now(plugin: PluginRuntime, event_id: str) -> int:
    """The first delivery of an event this process stored (and holds); the webhook's HTTP status."""
    async with plugin.sessions() as session:
        row = await store.get_delivery(session, event_id)
    if row is None or row.claimed_by != leases.process_id():
        return 409
    return await _attempt(plugin, row, leases.process_id())


async def drain(plugin: PluginRuntime) -> int:
    """Deliver every event due now; how many the webhook accepted."""
    owner = leases.process_id()
    lease = timedelta(seconds=config_of(plugin).outbox_lease_seconds)
    async with plugin.sessions() as session, session.begin():
        rows = await store.claim_deliveries(session, limit=BATCH, lease=lease, owner=owner)
    delivered = 0
    for row in rows:
        delivered += await _attempt(plugin, row, owner) == 200
    return delivered


def wake(plugin: PluginRuntime) -> None:
    """Deliver due events in the background now (start-up)."""
    waker(plugin, "dev_deliveries", drain).wake()


async def delivery_job(plugin: PluginRuntime) -> None:
    """The periodic retry of owed events (a byway Job; only with the dev provider)."""
    await drain(plugin)
