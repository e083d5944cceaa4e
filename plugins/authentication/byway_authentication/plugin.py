"""Hooks of ``authentication``: what is particular to it (jobs, the ``users`` command, a start-up check).

Models, migrations, schema, relations, operations, routes and the demo step come from the
template's conventions (``models.metadata``, ``migrations/``, ``schema.graphql`` + ``BINDABLES``,
``RELATIONS``, ``OPERATIONS``, ``build_routes``, ``DEMO_STEP``).
"""

from __future__ import annotations

import click

import byway
from byway_authentication import commands, outbox, passwords
from byway_authentication.config import config_of


@byway.hookimpl
def byway_register_plugin() -> byway.PluginInfo:
    """Name the plugin: mounted at /api/authentication/graphql."""
    return byway.PluginInfo(name="authentication", description="User accounts, sessions, recovery and roles")


@byway.hookimpl
def byway_register_jobs(plugin: byway.PluginRuntime) -> list[byway.Job]:
    """The email outbox and the pruning of old rate-limit events, tokens and settled emails."""
    return outbox.jobs(plugin)


@byway.hookimpl
def byway_register_commands(cli: click.Group) -> None:
    """Add ``byway users set-role``."""
    commands.register_commands(cli)


@byway.hookimpl
def byway_startup(plugin: byway.PluginRuntime) -> None:
    """Check the password-hashing parameters (refuse weak ones in production)."""
    passwords.check_startup(config_of(plugin), production=plugin.settings.is_production)
