"""Hooks of ``students-internal``: only its name; everything else comes from the template's conventions."""

import byway


@byway.hookimpl
def byway_register_plugin() -> byway.PluginInfo:
    """Name the plugin: mounted at /api/students-internal/graphql."""
    return byway.PluginInfo(name="students-internal", description="Students, enrollments, progress and certificates")
