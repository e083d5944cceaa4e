"""Hook implementations of ``teach-internal`` (wiring only; the rules live in :mod:`.resolvers`)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData

import byway
from byway.declarations import DemoStep, GraphQLApi, Operation, PluginInfo, Relation
from byway_teach_internal import demo, models, resolvers, store
from byway_teach_internal.operations import OPERATIONS, USERS_EXIST

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
    return GraphQLApi((HERE / "schema.graphql").read_text(encoding="utf-8"), resolvers.bindables)


@byway.hookimpl
def byway_register_relations() -> list[Relation]:
    """``Course.teacherId`` holds an authentication user id.

    Optional: teach-internal never calls authentication itself (the owner is the token's user,
    confirmed as a verified teacher by ``teach``), so it can run without it.
    """
    return [
        Relation(
            "teach-internal.Course.teacherId",
            "authentication.User",
            on_write="must exist (the caller's own user id; verified teacher profile checked with teach)",
            on_delete="restrict",
            enforced_by=("teach-internal.createCourse", "teach.myTeacherProfile"),
            optional=True,
            held_ids=store.held_teacher_ids,
            exists=USERS_EXIST,
        )
    ]


@byway.hookimpl
def byway_register_operations() -> list[Operation]:
    """What teach-internal asks of teach, students-internal and ecommerce."""
    return OPERATIONS


@byway.hookimpl
def byway_register_demo() -> DemoStep:
    """A free and a paid published course of the demo teacher (after authentication and teach)."""
    return DemoStep(order=30, run=demo.seed)
