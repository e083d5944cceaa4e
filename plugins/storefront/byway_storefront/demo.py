"""The storefront's part of ``byway demo``: where to open it, and whom to sign in as."""

from __future__ import annotations

from typing import Any

import byway


async def announce(plugin: byway.PluginRuntime, facts: dict[str, Any]) -> list[str]:
    """Nothing to seed (the storefront keeps no data): print the address and the demo accounts to use."""
    base = plugin.settings.self_url.rstrip("/")
    lines = [f"storefront: open {base}/ in a browser"]
    password = facts.get("demo_password")
    if password:
        for who in ("student", "teacher"):
            email = facts.get(f"{who}_email")
            if email:
                lines.append(f"  sign in as the {who}: {email} / {password}")
    return lines


DEMO_STEP = byway.DemoStep(order=100, run=announce)
