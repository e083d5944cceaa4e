"""Hook implementations of the ``ecommerce`` plugin (wiring only; the rules live in the modules)."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import MetaData
from starlette.routing import BaseRoute

import byway
from byway.declarations import DemoStep, GraphQLApi, Job, Operation, PluginInfo, Relation
from byway.runtime import PluginRuntime
from byway.status import StatusCheck
from byway_ecommerce import commands, demo, models, observability, relations, resolvers, routes, workers
from byway_ecommerce.operations import OPERATIONS
from byway_ecommerce.state import close_state, config_of

HERE = Path(__file__).parent


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    return PluginInfo(name="ecommerce", description="Checkout of paid courses; payments become enrollments")


@byway.hookimpl
def byway_register_models() -> MetaData:
    return models.metadata


@byway.hookimpl
def byway_register_migrations() -> Path:
    return HERE / "migrations"


@byway.hookimpl
def byway_register_schema() -> GraphQLApi:
    return GraphQLApi((HERE / "schema.graphql").read_text(encoding="utf-8"), resolvers.BINDABLES)


@byway.hookimpl
def byway_register_routes(plugin: PluginRuntime) -> list[BaseRoute]:
    return list(routes.build_routes(plugin))


@byway.hookimpl
def byway_register_relations() -> list[Relation]:
    return list(relations.RELATIONS)


@byway.hookimpl
def byway_register_operations() -> list[Operation]:
    return OPERATIONS


@byway.hookimpl
def byway_register_demo() -> DemoStep:
    return demo.DEMO_STEP


@byway.hookimpl
def byway_register_jobs(plugin: PluginRuntime) -> list[Job]:
    return workers.jobs(plugin)


@byway.hookimpl
def byway_register_commands(cli: click.Group) -> None:
    commands.register_commands(cli)


@byway.hookimpl
async def byway_startup(plugin: PluginRuntime) -> None:
    config = config_of(plugin)
    if plugin.settings.is_production and not config.uses_stripe:
        raise RuntimeError(
            "BYWAY_ENV=production needs a real payment provider: set BYWAY_ECOMMERCE_STRIPE_SECRET_KEY and "
            "BYWAY_ECOMMERCE_STRIPE_WEBHOOK_SECRET (the dev payment provider is for development only)"
        )
    if plugin.settings.is_production and config.pause_at:
        raise RuntimeError("BYWAY_ECOMMERCE_PAUSE_AT is for crash tests only and refused in production")
    plugin.metrics.on_scrape(observability.refresh)
    await workers.start(plugin)


@byway.hookimpl
async def byway_status(plugin: PluginRuntime) -> list[StatusCheck]:
    return await observability.status_checks(plugin)


@byway.hookimpl
async def byway_shutdown(plugin: PluginRuntime) -> None:
    await close_state(plugin)
