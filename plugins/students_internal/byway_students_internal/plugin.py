"""Hook implementations of ``students-internal`` (wiring only; the rules live in :mod:`.resolvers`)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData
from starlette.routing import Route

import byway
from byway.declarations import DemoStep, GraphQLApi, Operation, PluginInfo, Relation
from byway.runtime import PluginRuntime
from byway_students_internal import demo, models, resolvers, routes, store
from byway_students_internal.operations import COURSES_EXIST, OPERATIONS, USERS_EXIST

HERE = Path(__file__).parent


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    """The plugin's name: served at ``/api/students-internal/graphql``."""
    return PluginInfo(name="students-internal", description="Students and course enrollments")


@byway.hookimpl
def byway_register_models() -> MetaData:
    """Students and enrollments."""
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
def byway_register_routes(plugin: PluginRuntime) -> list[Route]:
    """``POST /api/students-internal/students``."""
    return routes.routes(plugin)


@byway.hookimpl
def byway_register_relations() -> list[Relation]:
    """``Student.userId`` holds an authentication user id; ``Enrollment.courseId`` a teach-internal course id.

    The user relation is optional: users prove who they are with their token, and the existence
    check for students registered by a service or an admin runs only when authentication is known.
    Enrollments cannot work without teach-internal, so that relation is required.
    """
    return [
        Relation(
            "students-internal.Student.userId",
            "authentication.User",
            on_write="must exist (the caller's own token, or authentication.user for services and admins)",
            on_delete="restrict",
            enforced_by=(
                "students-internal.registerStudent",
                "POST /api/students-internal/students",
                "students-internal.enrollMe",
            ),
            optional=True,
            held_ids=store.held_user_ids,
            exists=USERS_EXIST,
        ),
        Relation(
            "students-internal.Enrollment.courseId",
            "teach-internal.Course",
            on_write="must exist (published and free for enrollMe; any for enrollStudent)",
            on_delete="restrict (teach-internal.deleteCourse asks courseEnrollmentCount)",
            enforced_by=(
                "students-internal.enrollMe",
                "students-internal.enrollStudent",
                "teach-internal.deleteCourse",
            ),
            held_ids=store.held_course_ids,
            exists=COURSES_EXIST,
        ),
    ]


@byway.hookimpl
def byway_register_operations() -> list[Operation]:
    """What students-internal asks of teach-internal and authentication."""
    return OPERATIONS


@byway.hookimpl
def byway_register_demo() -> DemoStep:
    """The demo student, enrolled in the demo's free course (after teach-internal's step)."""
    return DemoStep(order=40, run=demo.seed)
