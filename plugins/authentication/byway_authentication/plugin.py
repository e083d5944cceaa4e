"""Hooks of the ``authentication`` plugin (wiring only; the rules live in the modules)."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import MetaData
from starlette.routing import BaseRoute

import byway
from byway.declarations import DemoStep, GraphQLApi, Job, Operation, PluginInfo, Relation
from byway.runtime import PluginRuntime
from byway_authentication import commands, demo, models, operations, outbox, passwords, relations, resolvers, routes

HERE = Path(__file__).parent


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    """Name the plugin: mounted at /api/authentication/graphql."""
    return PluginInfo(name="authentication", description="User accounts, sessions, recovery and roles")


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
    """The cross-plugin ID fields this plugin holds."""
    return relations.RELATIONS


@byway.hookimpl
def byway_register_operations() -> list[Operation]:
    """The documents this plugin sends to other plugins."""
    return operations.OPERATIONS


@byway.hookimpl
def byway_register_routes(plugin: PluginRuntime) -> list[BaseRoute]:
    """The minimal verify-email and reset-password pages (links in emails when there is no storefront)."""
    return routes.build_routes(plugin)


@byway.hookimpl
def byway_register_demo() -> DemoStep:
    """The plugin's part of ``byway demo``."""
    return demo.DEMO_STEP


@byway.hookimpl
def byway_register_jobs(plugin: PluginRuntime) -> list[Job]:
    """The email outbox and the pruning of old rate-limit events and tokens."""
    return outbox.jobs(plugin)


@byway.hookimpl
def byway_register_commands(cli: click.Group) -> None:
    """Add ``byway users set-role``."""
    commands.register_commands(cli)


@byway.hookimpl
def byway_startup(plugin: PluginRuntime) -> None:
    """Check the password-hashing parameters (refuse weak ones in production)."""
    passwords.check_startup(plugin.config, production=plugin.settings.is_production)
