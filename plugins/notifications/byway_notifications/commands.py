"""``byway mail [--to EMAIL] [--json]``: the stored messages, newest first."""

from __future__ import annotations

import json
from typing import Any

import click

from byway.cli import run_with_plugin
from byway.runtime import PluginRuntime
from byway_notifications import store


def register_commands(cli: click.Group) -> None:
    """Add ``byway mail``."""

    @cli.command("mail")
    @click.option("--to", "to", default=None, help="Only messages to this address (matched like logins).")
    @click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of text.")
    @click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
    def mail_cmd(to: str | None, as_json: bool, limit: int) -> None:
        """List the emails the notifications plugin stored (to, subject, text, status), newest first."""

        async def run(plugin: PluginRuntime) -> list[dict[str, Any]]:
            async with plugin.sessions() as session:
                return await store.list_messages(session, to=to, limit=limit)

        found = run_with_plugin("notifications", run)
        if as_json:
            click.echo(json.dumps(found, indent=2))
            return
        if not found:
            click.echo("no messages")
        for message in found:
            click.echo(f"--- {message['createdAt']}  [{message['status']}]  to {message['to']}")
            click.echo(f"Subject: {message['subject']}")
            click.echo(message["text"].rstrip())
            click.echo("")
