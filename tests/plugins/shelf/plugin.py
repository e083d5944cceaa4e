"""Hooks of ``shelf``: only its name; everything else comes from the template's conventions."""

import byway


@byway.hookimpl
def byway_register_plugin() -> byway.PluginInfo:
    return byway.PluginInfo(name="shelf", description="test-only: notes put on a shelf")
