"""Hooks of ``hello``: only its name; everything else comes from the template's conventions."""

import byway


@byway.hookimpl
def byway_register_plugin() -> byway.PluginInfo:
    """Name the plugin: mounted at /api/hello/graphql, database ``hello``, settings ``[plugin.hello]``."""
    return byway.PluginInfo(name="hello", description="Example third-party plugin: greetings")
