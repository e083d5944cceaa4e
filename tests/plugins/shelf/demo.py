"""``shelf``'s part of ``byway demo``."""

from typing import Any

import byway


async def seed(plugin: byway.PluginRuntime, facts: dict[str, Any]) -> list[str]:
    facts["shelf.seen"] = sorted(facts)
    return ["shelf: nothing to seed"]


DEMO_STEP = byway.DemoStep(order=50, run=seed)
