"""Hooks of ``teach``: only its name; everything else comes from the template's conventions."""

import byway


@byway.hookimpl
def byway_register_plugin() -> byway.PluginInfo:
    """Name the plugin: mounted at /api/teach/graphql."""
    return byway.PluginInfo(name="teach", description="Teacher profiles and their verification")
