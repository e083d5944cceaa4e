"""Hooks of ``teach-internal``: only its name; everything else comes from the template's conventions."""

import byway


@byway.hookimpl
def byway_register_plugin() -> byway.PluginInfo:
    """Name the plugin: mounted at /api/teach-internal/graphql."""
    return byway.PluginInfo(name="teach-internal", description="Courses, modules and lessons")
