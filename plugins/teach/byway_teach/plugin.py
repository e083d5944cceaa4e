"""Hook implementations of the ``teach`` plugin (wiring only; the rules live in the modules)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData

import byway
from byway.declarations import DemoStep, GraphQLApi, Operation, PluginInfo, Relation
from byway_teach import demo, models, resolvers, store
from byway_teach.operations import OPERATIONS, USERS_EXIST

HERE = Path(__file__).parent


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    """Name the plugin: mounted at /api/teach/graphql."""
    return PluginInfo(name="teach", description="Teacher profiles and their verification")


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
    # Not optional: without authentication nobody can be identified, so no profile can be created.
    return [
        Relation(
            source="teach.TeacherProfile.userId",
            target="authentication.User",
            on_write="must exist: the caller's id as authentication.me reports it, never client input",
            on_delete="restrict (authentication never deletes users)",
            enforced_by=("teach.createTeacherProfile",),
            held_ids=store.held_user_ids,
            exists=USERS_EXIST,
        )
    ]


@byway.hookimpl
def byway_register_operations() -> list[Operation]:
    """The documents this plugin sends to other plugins."""
    return OPERATIONS


@byway.hookimpl
def byway_register_demo() -> DemoStep:
    """The plugin's part of ``byway demo``."""
    return demo.DEMO_STEP
