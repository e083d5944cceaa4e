"""A plugin whose import fails. Only the test about import failures loads it (via an entry point)."""

from __future__ import annotations

import byway_module_that_does_not_exist  # noqa: F401

import byway
from byway.declarations import PluginInfo


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    return PluginInfo(name="broken")
