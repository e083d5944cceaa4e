"""Hooks of ``notifications``: what is particular to it (the delivery job, ``byway mail``, a start-up check).

Models, migrations, schema, relations, operations, routes and the demo step come from the
template's conventions.
"""

from __future__ import annotations

import click

import byway
from byway_notifications import commands, delivery
from byway_notifications.config import check_startup


@byway.hookimpl
def byway_register_plugin() -> byway.PluginInfo:
    """Name the plugin: mounted at /api/notifications/graphql."""
    return byway.PluginInfo(name="notifications", description="Email for the other plugins: stored, then delivered")


@byway.hookimpl
def byway_register_jobs(plugin: byway.PluginRuntime) -> list[byway.Job]:
    """The delivery job."""
    return [delivery.delivery_job(plugin)]


@byway.hookimpl
def byway_register_commands(cli: click.Group) -> None:
    """Add ``byway mail``."""
    commands.register_commands(cli)


@byway.hookimpl
def byway_startup(plugin: byway.PluginRuntime) -> None:
    """Refuse the dev transport in production (unless allowed) and a malformed SMTP URL."""
    check_startup(plugin)
