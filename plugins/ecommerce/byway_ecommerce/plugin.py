"""Hooks of ``ecommerce``: its name, jobs, command and start-up checks.

Everything else comes from the template's conventions: ``models.metadata``, ``migrations/``,
``schema.graphql`` + ``resolvers.BINDABLES``, ``relations.RELATIONS``, ``operations.OPERATIONS``,
``demo.DEMO_STEP`` and ``routes.build_routes``. The per-runtime state (provider, wakers) is a
``plugin.slot`` the host closes at shut-down.
"""

from __future__ import annotations

import click

import byway
from byway.status import StatusCheck
from byway_ecommerce import commands, observability, workers
from byway_ecommerce.config import config_of


@byway.hookimpl
def byway_register_plugin() -> byway.PluginInfo:
    """Name the plugin: mounted at /api/ecommerce/graphql."""
    return byway.PluginInfo(name="ecommerce", description="Checkout of paid courses; payments become enrollments")


@byway.hookimpl
def byway_register_jobs(plugin: byway.PluginRuntime) -> list[byway.Job]:
    """Enrollment outbox, emails, the dev provider's redeliveries and reconcile."""
    return workers.jobs(plugin)


@byway.hookimpl
def byway_register_commands(cli: click.Group) -> None:
    """``byway reconcile``."""
    commands.register_commands(cli)


@byway.hookimpl
async def byway_startup(plugin: byway.PluginRuntime) -> None:
    """Refuse the dev provider and pause points in production; free a dead predecessor's claims."""
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
async def byway_status(plugin: byway.PluginRuntime) -> list[StatusCheck]:
    return await observability.status_checks(plugin)
