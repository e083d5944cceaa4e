"""``lifecycle``: records its start-up, shut-down and job runs in :data:`EVENTS` (no database)."""

from __future__ import annotations

import asyncio

import byway
from byway.declarations import GraphQLApi, Job, PluginInfo
from byway.runtime import PluginRuntime

EVENTS: list[str] = []


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    return PluginInfo(name="lifecycle")


@byway.hookimpl
def byway_register_schema() -> GraphQLApi:
    return GraphQLApi("type Query { events: [String!]! }")


@byway.hookimpl
async def byway_startup(plugin: PluginRuntime) -> None:
    await asyncio.sleep(0)
    EVENTS.append(f"startup:{plugin.name}")


@byway.hookimpl
def byway_shutdown(plugin: PluginRuntime) -> None:
    EVENTS.append(f"shutdown:{plugin.name}")


@byway.hookimpl
def byway_register_jobs(plugin: PluginRuntime) -> list[Job]:
    async def beat(runtime: PluginRuntime) -> None:
        EVENTS.append("job:beat")

    async def broken(runtime: PluginRuntime) -> None:
        EVENTS.append("job:broken")
        raise RuntimeError("a failing job runs again at its next interval")

    async def off(runtime: PluginRuntime) -> None:
        EVENTS.append("job:off")

    interval = float(plugin.config.get("interval", 0.02))
    return [
        Job("beat", interval, beat),
        Job("broken", interval, broken),
        Job("off", interval, off, enabled=False),
    ]
