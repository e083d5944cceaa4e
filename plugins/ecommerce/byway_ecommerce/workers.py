"""The plugin's background work, started and woken in one place.

* ``outbox``         — enrollments and revocations (:mod:`.outbox`), every ``outbox_interval_seconds``;
* ``emails``         — receipts and refund notices (:mod:`.emails`), every ``email_interval_seconds``;
* ``dev_deliveries`` — events the dev provider owes the webhook (:mod:`.dev_deliveries`), dev only;
* ``reconcile``      — :mod:`.reconcile`, every ``reconcile_interval_seconds`` (0: off).

At start-up the claims of a dead predecessor are freed (:mod:`.leases`) and every worker is woken
at once, so a server killed at any point finishes its orders within seconds of its restart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from byway import Job
from byway_ecommerce import dev_deliveries, emails, leases, outbox, reconcile
from byway_ecommerce.config import config_of

if TYPE_CHECKING:
    from byway import PluginRuntime


def jobs(plugin: PluginRuntime) -> list[Job]:
    """The plugin's scheduled jobs."""
    config = config_of(plugin)
    return [
        Job("outbox", config.outbox_interval_seconds, outbox.outbox_job),
        Job("emails", config.email_interval_seconds, emails.email_job),
        Job(
            "dev_deliveries",
            config.dev_delivery_interval_seconds,
            dev_deliveries.delivery_job,
            enabled=not config.uses_stripe,
        ),
        Job(
            "reconcile",
            config.reconcile_interval_seconds or 1.0,
            reconcile.reconcile_job,
            enabled=config.reconcile_interval_seconds > 0,
        ),
    ]


def wake(plugin: PluginRuntime) -> None:
    """After an order changed: deliver its enrollments (or revocations) and its email now."""
    outbox.wake(plugin)
    emails.wake(plugin)


async def start(plugin: PluginRuntime) -> None:
    """Start-up: free a dead predecessor's claims, then wake every worker."""
    await leases.recover(plugin)
    wake(plugin)
    if not config_of(plugin).uses_stripe:
        dev_deliveries.wake(plugin)
