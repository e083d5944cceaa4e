"""Hooks of ``storefront``: its name and its pages; the operations it sends and its demo line come by convention."""

from __future__ import annotations

from starlette.routing import BaseRoute

import byway
from byway_storefront import pages


@byway.hookimpl
def byway_register_plugin() -> byway.PluginInfo:
    """Name the plugin (it has no GraphQL API and no database of its own)."""
    return byway.PluginInfo(name="storefront", description="The school in a browser, built on the public APIs")


@byway.hookimpl
def byway_register_pages(plugin: byway.PluginRuntime) -> list[BaseRoute]:
    """The site at ``/``: catalog, courses, lessons, accounts, checkout, learner and teacher pages."""
    return pages.build_pages(plugin)
