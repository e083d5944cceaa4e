"""A plugin with a misspelled hook (``byway_register_shema``): ``check_pending()`` must refuse it."""

from __future__ import annotations

import byway
from byway.declarations import GraphQLApi, PluginInfo


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    return PluginInfo(name="misspelled")


@byway.hookimpl
def byway_register_shema() -> GraphQLApi:
    return GraphQLApi("type Query { hello: String }")
