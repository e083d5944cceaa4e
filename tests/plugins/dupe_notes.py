"""A second plugin that claims the name ``notes``: loading it beside ``notes`` must fail start-up."""

from __future__ import annotations

import byway
from byway.declarations import PluginInfo


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    return PluginInfo(name="notes", description="an impostor")
