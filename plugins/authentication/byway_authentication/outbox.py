"""The email outbox job: prepares each queued email (a fresh one-time token, the rendered message)
and hands it to ``notifications.sendEmail`` as the authentication service.

Rows are written in the transaction of the state change (registration, a reset request), so an
email is never lost and no request waits on the mail. The key ``authentication:<row id>`` makes a
re-delivery after a crash one email, not two. A reset request for an address with no account is
settled as ``skipped`` here, out of the request, so the request takes the same time either way.
"""

from __future__ import annotations

import json
from datetime import timedelta

from byway.client import CrossPluginError
from byway.db import utcnow
from byway.declarations import Job
from byway.errors import BAD_USER_INPUT, ByWayError
from byway.runtime import PluginRuntime
from byway_authentication import emails, store
from byway_authentication.config import AuthenticationConfig, config_of
from byway_authentication.operations import SEND_EMAIL
from byway_authentication.sessions import hash_secret, new_secret
from byway_authentication.store import outbox
from byway_authentication.store import sessions as session_store

BATCH = 20


async def _prepare(plugin: PluginRuntime, entry: outbox.OutboxRow, config: AuthenticationConfig) -> str | None:
    """Render the entry's email with a new one-time token (stored with it); None when there is nothing to send."""
    now = utcnow()
    async with plugin.sessions() as session:
        if entry.kind == outbox.RESET:
            user = await store.user_by_email(session, entry.email_normalized or "")
        else:
            user = await store.user_by_id(session, entry.user_id or "")
        if user is None or (entry.kind == outbox.VERIFY and user.email_verified_at is not None):
            await outbox.settle(session, entry.id, outbox.SKIPPED, now=now)
            await session.commit()
            return None
        token = new_secret()
        if entry.kind == outbox.RESET:
            ttl, purpose = config.reset_token_ttl_seconds, "reset"
            email = emails.reset_email(user, emails.link(plugin, "reset", token), ttl // 60)
        else:
            ttl, purpose = config.verification_token_ttl_seconds, "verify"
            email = emails.verification_email(user, emails.link(plugin, "verify", token), ttl // 3600)
        await session_store.add_one_time_token(
            session,
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_secret(token),
            now=now,
            ttl=timedelta(seconds=ttl),
        )
        message = json.dumps(email.as_variables())
        await outbox.set_message(session, entry.id, message)
        await session.commit()
    return message


async def _deliver(plugin: PluginRuntime, entry: outbox.OutboxRow, config: AuthenticationConfig) -> None:
    message = entry.message or await _prepare(plugin, entry, config)
    if message is None:
        return
    variables = {**json.loads(message), "key": f"authentication:{entry.id}"}
    try:
        await plugin.client.call("notifications", SEND_EMAIL, variables, as_="service")
    except (CrossPluginError, ByWayError) as exc:
        await _failed(plugin, entry, config, exc)
        return
    async with plugin.sessions() as session:
        await outbox.settle(session, entry.id, outbox.SENT, now=utcnow())
        await session.commit()


async def _failed(plugin: PluginRuntime, entry: outbox.OutboxRow, config: AuthenticationConfig, exc: Exception) -> None:
    now = utcnow()
    permanent = getattr(exc, "code", None) == BAD_USER_INPUT
    too_old = now - entry.created_at >= timedelta(seconds=config.outbox_give_up_after_seconds)
    async with plugin.sessions() as session:
        if permanent or too_old:
            await outbox.settle(session, entry.id, outbox.FAILED, now=now, error=str(exc)[:2000])
            plugin.log.error("%s email %s could not be handed to notifications: %s", entry.kind, entry.id, exc)
        else:
            delay = min(config.outbox_retry_max_seconds, config.outbox_retry_base_seconds * 2 ** (entry.attempts - 1))
            await outbox.retry_later(session, entry.id, at=now + timedelta(seconds=delay), error=str(exc))
            plugin.log.warning("%s email %s not handed over yet (retry in %.1fs): %s", entry.kind, entry.id, delay, exc)
        await session.commit()


async def drain(plugin: PluginRuntime) -> int:
    """Hand every due email to notifications (one round); how many entries were worked on."""
    config = config_of(plugin)
    lease = timedelta(seconds=max(60.0, plugin.settings.client_timeout_seconds * 3))
    async with plugin.sessions() as session:
        due = await outbox.claim_due(session, now=utcnow(), lease=lease, limit=BATCH)
    for entry in due:
        await _deliver(plugin, entry, config)
    return len(due)


async def _prune(plugin: PluginRuntime) -> None:
    from byway_authentication.store import limits

    now = utcnow()
    config = config_of(plugin)
    keep = max(config.login_window_seconds, config.reset_window_seconds)
    async with plugin.sessions() as session:
        await limits.prune(session, before=now - timedelta(seconds=keep))
        await session_store.prune(session, before=now - timedelta(days=1))
        await outbox.prune(session, before=now - timedelta(days=30))
        await session.commit()


def jobs(plugin: PluginRuntime) -> list[Job]:
    """The outbox job, and the hourly pruning of old rate-limit events, expired tokens and settled emails."""
    return [
        Job(name="email-outbox", interval_seconds=config_of(plugin).outbox_interval_seconds, run=drain),
        Job(name="prune", interval_seconds=3600.0, run=_prune),
    ]
