"""``gauges``: a test-only plugin with its own metrics, a scrape-time callback and status checks.

Configuration (``[plugin.gauges]``): ``backlog`` (the value its scrape callback reports),
``callback`` (``ok``, ``fail`` or ``slow``) and ``attention`` (a status check that is not ok).
"""

from __future__ import annotations

import asyncio
from typing import Any

from ariadne import QueryType

import byway
from byway.context import RequestContext
from byway.declarations import GraphQLApi, PluginInfo
from byway.runtime import PluginRuntime
from byway.status import StatusCheck

query = QueryType()


def bumps(plugin: PluginRuntime) -> Any:
    """The plugin's own counter (``byway_gauges_bumps_total{kind}``)."""
    return plugin.metrics.counter("bumps_total", "Times bump was asked", ["kind"])


@query.field("bump")
def resolve_bump(_: Any, info: Any, kind: str = "plain") -> int:
    ctx: RequestContext = info.context
    counter = bumps(ctx.plugin).labels(kind)
    counter.inc()
    return int(counter._value.get())


async def collect(plugin: PluginRuntime) -> None:
    mode = plugin.config.get("callback", "ok")
    if mode == "fail":
        raise RuntimeError("the backlog query failed")
    if mode == "slow":
        await asyncio.sleep(30)
    plugin.metrics.gauge("backlog", "Rows waiting").set(float(plugin.config.get("backlog", 0)))


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    return PluginInfo(name="gauges", description="Test plugin with metrics and status checks")


@byway.hookimpl
def byway_register_schema() -> GraphQLApi:
    return GraphQLApi('type Query { bump(kind: String = "plain"): Int! }', [query])


@byway.hookimpl
def byway_startup(plugin: PluginRuntime) -> None:
    plugin.metrics.on_scrape(collect)


@byway.hookimpl
async def byway_status(plugin: PluginRuntime) -> list[StatusCheck]:
    backlog = int(plugin.config.get("backlog", 0))
    checks = [StatusCheck("backlog", backlog < 10, f"{backlog} waiting", {"backlog": backlog})]
    if plugin.config.get("attention"):
        checks.append(StatusCheck("attention", False, str(plugin.config["attention"])))
    return checks
