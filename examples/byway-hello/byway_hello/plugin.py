"""The hooks of ``hello``: the host calls these and does all the wiring."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sqlalchemy import MetaData
from starlette.routing import BaseRoute

import byway
from byway.declarations import GraphQLApi, PluginInfo
from byway.runtime import PluginRuntime
from byway_hello import resolvers, routes
from byway_hello.models import metadata

PACKAGE = Path(__file__).parent


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    return PluginInfo(name="hello", description="Example third-party plugin: greetings")


@byway.hookimpl
def byway_register_models() -> MetaData:
    return metadata


@byway.hookimpl
def byway_register_migrations() -> Path:
    return PACKAGE / "migrations"


@byway.hookimpl
def byway_register_schema() -> GraphQLApi:
    type_defs = resources.files("byway_hello").joinpath("schema.graphql").read_text()
    return GraphQLApi(type_defs, [resolvers.query, resolvers.mutation, resolvers.greeting_type])


@byway.hookimpl
def byway_register_routes(plugin: PluginRuntime) -> list[BaseRoute]:
    return routes.routes(plugin)
