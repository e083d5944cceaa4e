"""Hook wiring of ``students-internal`` (the rules live in :mod:`.resolvers` and :mod:`.learning`)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData
from starlette.routing import BaseRoute

import byway
from byway.declarations import DemoStep, GraphQLApi, Operation, PluginInfo, Relation
from byway.runtime import PluginRuntime
from byway_students_internal import demo, models, operations, relations, resolvers, routes

HERE = Path(__file__).parent


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    """The plugin's name: served at ``/api/students-internal/graphql``."""
    return PluginInfo(name="students-internal", description="Students, enrollments, progress and certificates")


@byway.hookimpl
def byway_register_models() -> MetaData:
    """Students, enrollments, lesson progress, certificates."""
    return models.metadata


@byway.hookimpl
def byway_register_migrations() -> Path:
    """The plugin's Alembic revisions."""
    return HERE / "migrations"


@byway.hookimpl
def byway_register_schema() -> GraphQLApi:
    """The GraphQL API (see ``schema.graphql``)."""
    return GraphQLApi((HERE / "schema.graphql").read_text(encoding="utf-8"), resolvers.BINDABLES)


@byway.hookimpl
def byway_register_routes(plugin: PluginRuntime) -> list[BaseRoute]:
    """See :mod:`.routes`."""
    return routes.build_routes(plugin)


@byway.hookimpl
def byway_register_relations() -> list[Relation]:
    """See :mod:`.relations`."""
    return relations.RELATIONS


@byway.hookimpl
def byway_register_operations() -> list[Operation]:
    """See :mod:`.operations`."""
    return operations.OPERATIONS


@byway.hookimpl
def byway_register_demo() -> DemoStep:
    """See :mod:`.demo`."""
    return demo.DEMO_STEP
