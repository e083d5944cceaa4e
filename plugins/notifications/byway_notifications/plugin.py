"""Hooks of ``notifications`` (wiring only; the rules live in the modules)."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import MetaData
from starlette.routing import BaseRoute

import byway
from byway.declarations import DemoStep, GraphQLApi, Job, Operation, PluginInfo, Relation
from byway.runtime import PluginRuntime
from byway_notifications import commands, delivery, demo, models, operations, relations, resolvers, routes
from byway_notifications.config import check_startup

HERE = Path(__file__).parent


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    """Name the plugin: mounted at /api/notifications/graphql."""
    return PluginInfo(name="notifications", description="Email for the other plugins: stored, then delivered")


@byway.hookimpl
def byway_register_models() -> MetaData:
    """The plugin's own tables."""
    return models.metadata


@byway.hookimpl
def byway_register_migrations() -> Path:
    """Where the plugin's Alembic revisions live."""
    return HERE / "migrations"


@byway.hookimpl
def byway_register_schema() -> GraphQLApi:
    """The GraphQL API: schema.graphql and its resolvers."""
    return GraphQLApi((HERE / "schema.graphql").read_text(encoding="utf-8"), resolvers.BINDABLES)


@byway.hookimpl
def byway_register_relations() -> list[Relation]:
    """No cross-plugin ID fields."""
    return relations.RELATIONS


@byway.hookimpl
def byway_register_operations() -> list[Operation]:
    """No documents sent to other plugins."""
    return operations.OPERATIONS


@byway.hookimpl
def byway_register_routes(plugin: PluginRuntime) -> list[BaseRoute]:
    """The dev mailbox page."""
    return routes.build_routes(plugin)


@byway.hookimpl
def byway_register_demo() -> DemoStep:
    """Where to read the demo's mail."""
    return demo.DEMO_STEP


@byway.hookimpl
def byway_register_jobs(plugin: PluginRuntime) -> list[Job]:
    """The delivery job."""
    return [delivery.delivery_job(plugin)]


@byway.hookimpl
def byway_register_commands(cli: click.Group) -> None:
    """Add ``byway mail``."""
    commands.register_commands(cli)


@byway.hookimpl
def byway_startup(plugin: PluginRuntime) -> None:
    """Refuse the dev transport in production (unless allowed) and a malformed SMTP URL."""
    check_startup(plugin)
