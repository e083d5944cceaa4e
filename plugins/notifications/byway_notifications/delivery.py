"""The delivery job: claims due messages, hands them to the transport, settles each outcome.

At least once: a message is marked ``sent`` only after the transport accepted it; a worker that
dies in between leaves a claim whose lease expires, and the message is sent again (with the same
``Message-ID``). Failures back off exponentially; a message the server keeps refusing, or that
could not go out for ``give_up_after_seconds``, is marked ``failed`` and logged at ERROR.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from byway.db import utcnow
from byway.declarations import Job
from byway.runtime import PluginRuntime
from byway_notifications import store
from byway_notifications.config import config_of
from byway_notifications.transports import make_transport


@dataclass
class DeliveryReport:
    """What one round did."""

    sent: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


async def deliver_due(plugin: PluginRuntime) -> DeliveryReport:
    """Deliver every message that is due now (one round; used by the job, the CLI and tests)."""
    config = config_of(plugin)
    transport = make_transport(config)
    report = DeliveryReport()
    # Long enough for one SMTP conversation per message of the batch.
    lease = timedelta(seconds=config.smtp_timeout_seconds * (config.batch_size + 2))
    async with plugin.sessions() as session:
        batch = await store.claim_due(session, now=utcnow(), lease=lease, limit=config.batch_size)
    if not batch:
        return report
    failures = await transport.deliver(batch)
    now = utcnow()
    async with plugin.sessions() as session:
        for message in batch:
            error = failures.get(message.id)
            if error is None:
                await store.mark_sent(session, message.id, transport.name, now=now)
                report.sent.append(message.id)
                continue
            outcome = await store.record_failure(
                session,
                message.id,
                str(error),
                permanent=error.permanent,
                now=now,
                retry_base=config.retry_base_seconds,
                retry_max=config.retry_max_seconds,
                max_permanent=config.max_permanent_failures,
                give_up_after=config.give_up_after_seconds,
            )
            if outcome.failed:
                report.failed.append(message.id)
                plugin.log.error(
                    "email %s to %s failed for good after %d attempts: %s",
                    message.id,
                    message.to,
                    outcome.attempts,
                    error,
                )
            else:
                report.retrying.append(message.id)
                plugin.log.warning(
                    "email %s to %s not delivered (attempt %d, next at %s): %s",
                    message.id,
                    message.to,
                    outcome.attempts,
                    outcome.next_attempt_at,
                    error,
                )
        await session.commit()
    return report


async def _run(plugin: PluginRuntime) -> None:
    batch_size = config_of(plugin).batch_size
    for _ in range(10):  # a backlog drains in full batches, a few per run
        report = await deliver_due(plugin)
        if len(report.sent) + len(report.retrying) + len(report.failed) < batch_size:
            return


def delivery_job(plugin: PluginRuntime) -> Job:
    """The periodic delivery job."""
    return Job(name="deliver-email", interval_seconds=config_of(plugin).deliver_interval_seconds, run=_run)
