"""``byway reconcile``: the reconciliation of ``POST /api/ecommerce/reconcile`` from the command line."""

from __future__ import annotations

import getpass
import json
from typing import Any

import click

from byway import PluginRuntime
from byway.cli import run_with_plugin
from byway_ecommerce.reconcile import reconcile


def register_commands(cli: click.Group) -> None:
    """Add ``reconcile`` to the ``byway`` command group."""

    @cli.command("reconcile")
    @click.option("--days", type=click.IntRange(1, 365), default=None, help="Re-check orders paid this many days back.")
    def reconcile_cmd(days: int | None) -> None:
        """Re-drive undelivered enrollments of paid orders and print a JSON summary (exit 1 if any remain)."""

        async def run(plugin: PluginRuntime) -> dict[str, Any]:
            return await reconcile(plugin, days=days, actor=getpass.getuser())

        summary = run_with_plugin("ecommerce", run)
        click.echo(json.dumps(summary, indent=2))
        if not summary["ok"]:
            click.get_current_context().exit(1)
