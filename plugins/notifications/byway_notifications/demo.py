"""The ``notifications`` part of ``byway demo``: where to read the mail the demo and the app send."""

from __future__ import annotations

from typing import Any

from byway.declarations import DemoStep
from byway.runtime import PluginRuntime
from byway_notifications import store
from byway_notifications.config import config_of


async def describe_mailbox(plugin: PluginRuntime, facts: dict[str, Any]) -> list[str]:
    """Print where the messages are; seeds nothing (idempotent)."""
    async with plugin.sessions() as session:
        count = len(await store.list_messages(session, limit=1000))
    transport = config_of(plugin).transport_name
    facts["mailbox_url"] = f"{plugin.settings.public_url}/api/notifications/mailbox"
    if transport == "dev":
        return [
            f"notifications: dev transport, {count} stored message(s): open {facts['mailbox_url']} or run 'byway mail'"
        ]
    return [f"notifications: sending through SMTP ({count} stored message(s); 'byway mail' lists them)"]


DEMO_STEP = DemoStep(order=90, run=describe_mailbox)
