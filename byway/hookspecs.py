"""Every hook a Byway plugin can implement, typed, with its full contract.

A plugin is a module (or object) registered in the ``byway.plugins`` entry-point group whose
functions are marked with :data:`byway.hookimpl`. Hooks are called **per plugin**: the host calls
each plugin's own implementation and keeps the result with that plugin, so a hook returns data
about the plugin that implements it, never about others.

Lifecycle order:

1. Registration (``create_app`` / any CLI command): :func:`byway_register_plugin` (required), then
   :func:`byway_register_models`, :func:`byway_register_migrations`,
   :func:`byway_register_schema`, :func:`byway_register_routes`, :func:`byway_register_pages`,
   :func:`byway_register_relations`,
   :func:`byway_register_operations`, :func:`byway_register_jobs`.
2. CLI construction: :func:`byway_register_commands`.
3. Server start-up (lifespan): databases opened, migrations applied (dev), operations validated,
   then :func:`byway_startup`, then jobs started.
4. Server shut-down: jobs cancelled, :func:`byway_shutdown`, databases disposed.
5. ``byway demo`` or ``byway serve --demo``: :func:`byway_register_demo` steps, by order.

Conventions: a plugin that does not implement a registration hook gets the answer from its
package by name (``models.metadata``, ``migrations/``, ``schema.graphql`` + ``resolvers.BINDABLES``,
``relations.RELATIONS``, ``operations.OPERATIONS``, ``demo.DEMO_STEP``,
``routes.build_routes(plugin)``; see :mod:`byway.conventions`). An implemented hook always wins.
"""

# mypy: disable-error-code="empty-body"
# (hookspecs are never called: pluggy calls the implementations, so their bodies are only docstrings)

from __future__ import annotations

from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click
    from sqlalchemy import MetaData
    from starlette.routing import BaseRoute

    from byway.declarations import DemoStep, GraphQLApi, Job, Operation, PluginInfo, Relation
    from byway.runtime import PluginRuntime
    from byway.status import StatusCheck

PROJECT = "byway"
hookspec = pluggy.HookspecMarker(PROJECT)


# --- registration -----------------------------------------------------------------------------


@hookspec
def byway_register_plugin() -> PluginInfo:
    """Name the plugin. **Required**: a plugin without it fails start-up.

    Returns:
        :class:`~byway.declarations.PluginInfo`. ``name`` is the mount name (the API is served at
        ``/api/<name>/graphql``), the database name (``{plugin}`` in ``BYWAY_DATABASE_URL``) and
        the key of the plugin's ``[plugin.<name>]`` configuration. Two plugins with one name fail
        start-up naming both distributions.
    """


@hookspec
def byway_register_models() -> MetaData:
    """Return the SQLAlchemy ``MetaData`` of the plugin's own tables.

    Implement it only if the plugin stores data: the host then opens an async engine for the
    plugin (``BYWAY_DATABASE_URL_<P>``, ``BYWAY_DATABASE_URL`` or a SQLite file in the data
    directory) and ``byway makemigrations`` compares against this metadata only.
    """


@hookspec
def byway_register_migrations() -> str | Path:
    """Return the directory holding the plugin's Alembic revision files.

    Required with :func:`byway_register_models`. The host runs them with the shared environment
    in ``migrations/`` and records the plugin's revision in its own version table
    (``alembic_version_<plugin>``) in the plugin's own database.
    """


@hookspec
def byway_register_schema() -> GraphQLApi:
    """Return the plugin's GraphQL API: SDL type definitions and Ariadne bindables.

    The host builds the executable schema and serves it at ``/api/<name>/graphql`` (POST runs
    operations, GET shows the playground). Resolvers receive a
    :class:`~byway.context.RequestContext` as ``info.context``.
    """


@hookspec
def byway_register_routes(plugin: PluginRuntime) -> list[BaseRoute]:
    """Return extra Starlette routes, mounted under ``/api/<name>/``.

    Args:
        plugin: the plugin's runtime (database, client, settings, token verification), for the
            endpoints to close over.

    Route paths are relative: ``Route("/stripe/webhook", ...)`` answers at
    ``/api/<name>/stripe/webhook``.
    """


@hookspec
def byway_register_pages(plugin: PluginRuntime) -> list[BaseRoute]:
    """Return routes served at the site root (outside ``/api/``): a web front end's pages.

    Args:
        plugin: the plugin's runtime, for the endpoints to close over.

    Paths are absolute (``Route("/", ...)`` answers at ``/``). They are matched after every
    plugin's API and the host's own routes, so a page can never shadow them: a path under
    ``/api/`` or on a host route (``/healthz``, ``/readyz``, ``/metrics``, ``/_byway/...``) fails
    start-up, and so does a path two plugins both claim. Only plugins that serve pages to people
    need this hook (e.g. the ``storefront`` plugin serves the site at ``/``).
    """


@hookspec
def byway_register_relations() -> list[Relation]:
    """Declare the cross-plugin ID fields this plugin holds (``source`` is one of its fields).

    Start-up fails when a relation targets a plugin that is not loaded (unless ``optional``);
    ``byway relations`` prints the table.
    """


@hookspec
def byway_register_operations() -> list[Operation]:
    """Declare the GraphQL documents this plugin sends to other plugins.

    Each is parsed and validated against its target's schema at start-up, so a broken contract
    fails start-up instead of production traffic (targets that are not loaded are skipped).
    """


@hookspec
def byway_register_jobs(plugin: PluginRuntime) -> list[Job]:
    """Return background jobs the server runs periodically while it is up.

    Args:
        plugin: the plugin's runtime, to read configuration (intervals, switches).
    """


@hookspec
def byway_register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``byway`` command line (``cli.add_command(...)``).

    A command that needs the plugin's database or client uses :func:`byway.cli.run_with_plugin`.
    """


@hookspec
def byway_register_demo() -> DemoStep:
    """Return the plugin's part of the demo data (see :class:`~byway.declarations.DemoStep`)."""


# --- lifecycle --------------------------------------------------------------------------------


@hookspec
def byway_startup(plugin: PluginRuntime) -> Awaitable[None] | None:
    """Run start-up work after databases are open and migrated; may return an awaitable.

    An exception fails server start-up with the plugin's name.
    """


@hookspec
def byway_shutdown(plugin: PluginRuntime) -> Awaitable[None] | None:
    """Run shut-down work before the plugin's database is disposed; may return an awaitable."""


# --- operations -------------------------------------------------------------------------------


@hookspec
def byway_status(plugin: PluginRuntime) -> list[StatusCheck] | Awaitable[list[StatusCheck]]:
    """Report what an operator should know about the plugin, for ``byway status``.

    Called by the ``byway status`` command with the plugin's database open (no server needed),
    after the host has checked that the database is reachable and at head. Returns (or returns an
    awaitable of) a list of :class:`byway.status.StatusCheck`; a check with ``ok=False`` makes the
    command exit 1 (e.g. ecommerce: enrollment outbox rows failed, backlog too old, last
    reconcile failed). An exception is reported as a failed check of the plugin.
    """
