"""Receipts and refund notices: ecommerce's own durable email outbox, sent through ``notifications``.

A row is written in the transaction that marks the order PAID (receipt) or REFUNDED (notice), so
it exists exactly when the state change does; nothing is sent inside the request. A job (woken
right after the change, and every ``email_interval_seconds``) claims due rows like the enrollment
outbox and calls ``notifications.sendEmail`` as the ecommerce service with the key
``ecommerce-<kind>-<order id>``, so a row sent twice (a worker that died after the call) is still
one email. Failures back off; after ``outbox_max_attempts`` a row is ``failed`` (ERROR log) and
reconcile re-drives it. A paid order's enrollments never wait for its email.

Where it goes: the email given at checkout, else the buyer's account email (``authentication``
``user(id)`` as service); with neither the row is ``skipped``. When no ``notifications`` plugin can
be called (``plugin.knows("notifications")`` is false) nothing is queued: there is no one to send
it, and the rest of ecommerce works the same.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from byway import ByWayError, CrossPluginError, utcnow
from byway_ecommerce import leases
from byway_ecommerce.config import config_of
from byway_ecommerce.email_templates import RECEIPT as RECEIPT
from byway_ecommerce.email_templates import REFUND, compose
from byway_ecommerce.models import EMAIL_FAILED, EMAIL_SENT, EMAIL_SKIPPED
from byway_ecommerce.operations import AUTHENTICATION, NOTIFICATIONS, SEND_EMAIL, USER_EMAIL
from byway_ecommerce.state import public_url, waker
from byway_ecommerce.store import emails as store

if TYPE_CHECKING:
    from byway import PluginRuntime

__all__ = ["RECEIPT", "REFUND", "drain", "email_job", "queue", "wake"]

#: Rounds of claims in one drain.
MAX_ROUNDS = 20


async def queue(plugin: PluginRuntime, session: AsyncSession, order_id: str, kind: str) -> bool:
    """Queue the order's email of ``kind`` in the caller's transaction (nothing when notifications is absent)."""
    if not plugin.knows(NOTIFICATIONS):
        return False
    return await store.queue(session, order_id, kind)


def wake(plugin: PluginRuntime) -> None:
    """Send due emails in the background now."""
    if plugin.knows(NOTIFICATIONS):
        waker(plugin, "emails", drain).wake()


async def _address(plugin: PluginRuntime, order: Any) -> str | None:
    if order.email:
        return str(order.email)
    if not order.user_id or not plugin.knows(AUTHENTICATION):
        return None
    data = await plugin.client.call(AUTHENTICATION, USER_EMAIL, {"id": order.user_id}, as_="service")
    user = data.get("user") or {}
    return str(user["email"]) if user.get("email") else None


async def _send(plugin: PluginRuntime, row: Any) -> str | None:
    """Compose and send one email; the error text, ``"skipped"`` when there is no address, or None."""
    async with plugin.sessions() as session:
        order, items = await store.order_for_email(session, row.order_id)
    config = config_of(plugin)
    try:
        to = await _address(plugin, order)
        if to is None:
            return EMAIL_SKIPPED
        email = compose(row.kind, order, items, public_url(plugin), config.orders_path, config.course_path)
        variables = {"to": to, "subject": email.subject, "text": email.text, "html": email.html, "key": row.key}
        await plugin.client.call(NOTIFICATIONS, SEND_EMAIL, variables, as_="service")
    except CrossPluginError as exc:
        return str(exc)
    except ByWayError as exc:
        return f"[{exc.code}] {exc.message}"
    except Exception as exc:  # never lose the row to a bug or a broken transport
        plugin.log.exception("email %s: unexpected error", row.id)
        return f"{type(exc).__name__}: {exc}"
    return None


async def deliver(plugin: PluginRuntime, row: Any) -> str:
    """Send one claimed email and record the outcome; the row's new status."""
    config = config_of(plugin)
    error = await _send(plugin, row)
    if error is None:
        values: dict[str, Any] = {"status": EMAIL_SENT, "last_error": None}
    elif error == EMAIL_SKIPPED:
        values = {"status": EMAIL_SKIPPED, "last_error": "no address: no email on the order or the account"}
    elif row.attempts >= config.outbox_max_attempts:
        values = {"status": EMAIL_FAILED, "last_error": error[:1000]}
    else:
        values = {
            "last_error": error[:1000],
            "next_attempt_at": utcnow() + timedelta(seconds=config.backoff_seconds(row.attempts)),
        }
    async with plugin.sessions() as session, session.begin():
        if not await store.record_outcome(session, row.id, row.claim_token, values):
            return "lost_claim"
    status = str(values.get("status", row.status))
    if status == EMAIL_FAILED:
        plugin.log.error(
            "%s email of order %s failed after %d attempts: %s", row.kind, row.order_id, row.attempts, error
        )
    elif error is not None and status != EMAIL_SKIPPED:
        plugin.log.warning(
            "%s email of order %s attempt %d failed (retrying): %s", row.kind, row.order_id, row.attempts, error
        )
    return status


async def drain(plugin: PluginRuntime) -> int:
    """Send every email due now; how many were sent."""
    config = config_of(plugin)
    started = utcnow()
    sent = 0
    for _ in range(MAX_ROUNDS):
        async with plugin.sessions() as session, session.begin():
            rows = await store.claim(
                session,
                limit=config.outbox_batch_size,
                lease=timedelta(seconds=config.outbox_lease_seconds),
                cutoff=started,
                owner=leases.process_id(),
            )
        if not rows:
            break
        statuses = await asyncio.gather(*(deliver(plugin, row) for row in rows))
        sent += sum(1 for status in statuses if status == EMAIL_SENT)
    return sent


async def email_job(plugin: PluginRuntime) -> None:
    """The periodic sender (a byway Job)."""
    if plugin.knows(NOTIFICATIONS):
        await drain(plugin)
