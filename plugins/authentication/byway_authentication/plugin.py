"""Hook implementations of the ``authentication`` plugin (wiring only; the rules live in the modules)."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import MetaData

import byway
from byway.declarations import DemoStep, GraphQLApi, Operation, PluginInfo, Relation
from byway.runtime import PluginRuntime
from byway_authentication import commands, demo, models, resolvers, store
from byway_authentication.operations import OPERATIONS, TEACHER_PROFILES_EXIST
from byway_authentication.passwords import HashParams, prepare

HERE = Path(__file__).parent


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    """Name the plugin: mounted at /api/authentication/graphql."""
    return PluginInfo(name="authentication", description="User accounts, login tokens and roles")


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
    # Optional: authentication is useful on its own (sign-up and login need no teach). Without
    # teach, no link can be written at all: updateUserTeacherProfile fails closed (UPSTREAM_UNAVAILABLE).
    return [
        Relation(
            source="authentication.User.teacherProfileId",
            target="teach.TeacherProfile",
            on_write="must exist and belong to the user (teach.teacherProfile, asked as the user)",
            on_delete="restrict (teach never deletes a profile once it is linked)",
            enforced_by=("authentication.updateUserTeacherProfile", "teach.createTeacherProfile"),
            optional=True,
            held_ids=store.linked_teacher_profile_ids,
            exists=TEACHER_PROFILES_EXIST,
        )
    ]


@byway.hookimpl
def byway_register_operations() -> list[Operation]:
    """The documents this plugin sends to other plugins."""
    return OPERATIONS


@byway.hookimpl
def byway_register_commands(cli: click.Group) -> None:
    """Add ``byway users set-role``."""
    commands.register_commands(cli)


@byway.hookimpl
def byway_register_demo() -> DemoStep:
    """The plugin's part of ``byway demo``."""
    return demo.DEMO_STEP


@byway.hookimpl
def byway_startup(plugin: PluginRuntime) -> None:
    """Check the password-hashing parameters (refuse weak ones in production)."""
    params = HashParams.from_config(plugin.config)
    if plugin.settings.is_production and not params.is_strong_enough():
        raise RuntimeError(
            f"password hashing parameters {params} are below the OWASP minimum for argon2id "
            "(password_memory_kib >= 19456, password_time_cost >= 2)"
        )
    prepare(params)
