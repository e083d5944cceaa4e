"""Pause points: where a crash test stops the server to kill it (``pause_at``; refused in production).

With ``BYWAY_ECOMMERCE_PAUSE_AT=<point>`` the server, on reaching that point, writes the file
``<data dir>/ecommerce-paused-<point>`` and waits forever; the test then kills it with SIGKILL and
checks that a restarted server finishes the work. Unset (always, outside such tests), a point costs
one string comparison.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from byway_ecommerce.config import config_of

if TYPE_CHECKING:
    from byway import PluginRuntime


async def point(plugin: PluginRuntime, name: str) -> None:
    """Pause here forever when ``pause_at`` names this point."""
    if config_of(plugin).pause_at != name:
        return
    marker = Path(plugin.settings.data_dir) / f"ecommerce-paused-{name}"
    marker.write_text("paused\n", encoding="utf-8")
    plugin.log.warning("paused at %s (pause_at): waiting to be killed", name)
    await asyncio.Event().wait()
