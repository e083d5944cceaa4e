"""Hook wiring of ``teach-internal`` (the rules live in :mod:`.resolvers` and :mod:`.authoring`)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData

import byway
from byway.declarations import DemoStep, GraphQLApi, Operation, PluginInfo, Relation
from byway_teach_internal import demo, models, operations, relations, resolvers

HERE = Path(__file__).parent


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    """The plugin's name: served at ``/api/teach-internal/graphql``."""
    return PluginInfo(name="teach-internal", description="Courses, modules and lessons")


@byway.hookimpl
def byway_register_models() -> MetaData:
    """Courses, modules, lessons."""
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
