"""Hooks of ``storefront``: its pages at the site root and the operations it sends."""

from __future__ import annotations

from starlette.routing import BaseRoute

import byway
from byway.declarations import DemoStep, Operation, PluginInfo
from byway.runtime import PluginRuntime
from byway_storefront import demo, operations, pages


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    """Name the plugin (it has no GraphQL API and no database of its own)."""
    return PluginInfo(name="storefront", description="The school in a browser, built on the public APIs")


@byway.hookimpl
def byway_register_pages(plugin: PluginRuntime) -> list[BaseRoute]:
    """The site: catalog, courses, lessons, accounts, checkout, learner and teacher pages."""
    return pages.build_pages(plugin)


@byway.hookimpl
def byway_register_demo() -> DemoStep:
    """Print where the demo site is and whom to sign in as."""
    return demo.DEMO_STEP


@byway.hookimpl
def byway_register_operations() -> list[Operation]:
    """Every document the storefront sends (validated against the other plugins at start-up)."""
    return operations.OPERATIONS
