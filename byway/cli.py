"""The ``byway`` command line: serve, migrate, makemigrations, plugins, relations, audit, demo, and plugin commands."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from typing import Any, TypeVar

import click

from byway import __version__, migrate, relations, status
from byway.client import InProcessTransport
from byway.db import safe_url
from byway.host import Host
from byway.logs import setup_logging
from byway.metrics import prepare_multiprocess_metrics
from byway.plugins import PluginError
from byway.runtime import PluginRuntime
from byway.security import exposure_warning, secure_data_dir
from byway.settings import ConfigurationError, load_settings

T = TypeVar("T")


def _host() -> Host:
    host = click.get_current_context().find_object(Host)
    if host is None:
        raise click.ClickException("no Byway host in this command's context")
    return host


def run_with_host(func: Callable[[Host], Awaitable[T]], *, migrate_now: bool | None = None) -> T:
    """Open every plugin's database (migrating in dev), run ``func(host)``, close. For CLI commands."""
    host = _host()

    async def run() -> T:
        try:
            await host.open(migrate_now=migrate_now)
            return await func(host)
        finally:
            await host.close()

    try:
        return asyncio.run(run())
    except (PluginError, ConfigurationError) as exc:
        raise click.ClickException(str(exc)) from exc


def run_with_plugin(plugin: str, func: Callable[[PluginRuntime], Awaitable[T]]) -> T:
    """Run ``func(runtime)`` with one plugin's open database and client (for plugins' commands)."""

    async def run(host: Host) -> T:
        if plugin not in host.plugins:
            raise click.ClickException(f"plugin {plugin!r} is not loaded")
        return await func(host.plugins[plugin])

    return run_with_host(run)


async def run_demo(host: Host, echo: Callable[[str], Any] = click.echo) -> dict[str, Any]:
    """Run every plugin's demo step in order on an open host; returns the shared facts."""
    facts: dict[str, Any] = {}
    # The demo runs before the server listens, so even with BYWAY_TRANSPORT=http its calls stay in-process.
    with host.inprocess_calls():
        for runtime, step in host.demo_steps():
            for line in await step.run(runtime, facts):
                echo(line)
    return facts


def build_cli(host: Host) -> click.Group:
    """The ``byway`` command group for ``host``, with the commands its plugins add."""

    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="byway")
    @click.pass_context
    def cli(ctx: click.Context) -> None:
        """Byway: a modular-monolith backend for selling and teaching online courses.

        Configuration comes from config/byway.toml (or BYWAY_CONFIG) and BYWAY_* variables.
        """
        ctx.obj = host

    @cli.command()
    @click.option("--host", "bind", default="127.0.0.1", show_default=True, help="Interface to listen on.")
    @click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
    @click.option("--workers", default=1, show_default=True, type=int, help="Worker processes.")
    @click.option("--reload", is_flag=True, help="Restart on code changes (development).")
    @click.option("--demo", is_flag=True, help="Seed the demo data before serving (idempotent).")
    def serve(bind: str, port: int, workers: int, reload: bool, demo: bool) -> None:
        """Serve every plugin's API with uvicorn (pending migrations are applied in dev)."""
        import uvicorn

        host = _host()
        # The HTTP transport's default target is this very server; the demo's links point at it too.
        own = "127.0.0.1" if bind in {"0.0.0.0", "::", ""} else bind
        os.environ.setdefault("BYWAY_SELF_URL", f"http://{own}:{port}")
        if host.settings.self_url != os.environ["BYWAY_SELF_URL"]:
            host.settings = host.settings.with_overrides(self_url=os.environ["BYWAY_SELF_URL"])
        if demo:
            run_with_host(lambda h: run_demo(h), migrate_now=True)
        elif host.settings.migrate_on_startup:
            run_with_host(lambda h: h.migrate(), migrate_now=False)
        # Migrated once here, so several workers do not race to migrate the same databases.
        os.environ["BYWAY_AUTO_MIGRATE"] = "0"
        secure_data_dir(host.settings.data_dir, create=True)
        warning = exposure_warning(host.settings.env, bind)
        if warning:
            click.secho(warning, fg="red", bold=True, err=True)
            logging.getLogger("byway.security").warning(warning)
        if workers > 1:
            prepare_multiprocess_metrics(host.settings.data_dir)
        setup_logging(host.settings)  # this process's own lines (the supervisor's), as the workers'
        uvicorn.run(
            "byway.app:create_served_app",
            factory=True,
            host=bind,
            port=port,
            workers=workers,
            reload=reload,
            lifespan="on",
            access_log=False,  # the app logs each request itself, with its request and trace ids
            # The client address is the socket's; X-Forwarded-For is read by Byway itself, only from
            # the proxies in BYWAY_TRUSTED_PROXIES (uvicorn would otherwise believe any local peer).
            proxy_headers=False,
            log_config=None,  # the workers' logging is byway.logs.setup_logging (BYWAY_LOG_FORMAT)
        )

    @cli.command("migrate")
    @click.option("--plugin", "plugin", default=None, help="Only this plugin.")
    def migrate_cmd(plugin: str | None) -> None:
        """Upgrade plugin databases to their head revisions."""

        async def run(host: Host) -> dict[str, str | None]:
            return await host.migrate(plugin)

        for name, revision in run_with_host(run, migrate_now=False).items():
            click.echo(f"{name}: at {revision or 'base'}")

    @cli.command()
    @click.argument("plugin")
    @click.option("-m", "--message", required=True, help="What the revision changes.")
    @click.option("--empty", is_flag=True, help="Write an empty revision instead of autogenerating.")
    def makemigrations(plugin: str, message: str, empty: bool) -> None:
        """Write a revision for PLUGIN, autogenerated against that plugin's models only."""
        host = _host()
        runtime = host.plugins.get(plugin)
        if runtime is None or runtime.metadata is None:
            raise click.ClickException(f"plugin {plugin!r} is not loaded or has no models")
        path = migrate.make_revision(runtime, message, autogenerate=not empty)
        if path is None:
            click.echo(f"no changes in the models of {plugin}: nothing written")
        else:
            click.echo(f"wrote {path}")

    @cli.command("plugins")
    def plugins_cmd() -> None:
        """List loaded plugins: name, version, distribution, mount path, database, transport."""
        host = _host()
        rows = [("NAME", "VERSION", "DISTRIBUTION", "MOUNT", "DATABASE", "TRANSPORT")]
        for runtime in host.plugins.values():
            db = safe_url(runtime.database.url) if runtime.database else "-"
            transport = host.settings.base_url_for(runtime.name) or "inprocess"
            rows.append(
                (
                    runtime.name,
                    runtime.loaded.version or "-",
                    runtime.loaded.distribution,
                    f"/api/{runtime.name}/graphql",
                    db,
                    transport,
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())

    @cli.command("relations")
    @click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "mermaid"]),
        default="text",
        show_default=True,
        help="text: one entry per relation; mermaid: a flowchart for docs.",
    )
    def relations_cmd(fmt: str) -> None:
        """List the declared cross-plugin relations and what enforces them."""
        if fmt == "mermaid":
            click.echo(relations.mermaid(_host().relations), nl=False)
            return
        for rel in _host().relations:
            enforced = ", ".join(rel.enforced_by) or "-"
            click.echo(f"{rel.source} -> {rel.target}  [on write: {rel.on_write}; on delete: {rel.on_delete}]")
            click.echo(f"    enforced by: {enforced}")
            if rel.column is not None:
                click.echo(
                    f"    on delete applied by the host: {rel.policy} ({rel.column.table.name}.{rel.column.name})"
                )
            lookup = relations.lookup_name(rel)
            if lookup is not None:
                click.echo(f"    audited by: {lookup}")

    @cli.command("audit")
    @click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
    def audit_cmd(as_json: bool) -> None:
        """Find dangling cross-plugin references, through each plugin's API.

        Exits 1 when a reference dangles, 2 when a relation could not be checked, else 0.
        """

        async def run(host: Host) -> list[relations.RelationReport]:
            # No server listens during a command: a plugin configured with its own URL is asked there,
            # the others in-process (BYWAY_TRANSPORT=http would otherwise send them to this very command).
            inprocess = InProcessTransport(host)
            with ExitStack() as stack:
                for name in host.plugins:
                    if name not in host.settings.plugin_urls:
                        stack.enter_context(host.override_transport(name, inprocess))
                return await relations.audit(host)

        reports = run_with_host(run)
        if as_json:
            payload = {"clean": all(r.clean for r in reports), "relations": [r.to_json() for r in reports]}
            click.echo(json.dumps(payload, indent=2))
        else:
            for report in reports:
                click.echo(_audit_line(report))
                for held in report.dangling[:AUDIT_SHOWN]:
                    click.echo(f"    {held}")
                if len(report.dangling) > AUDIT_SHOWN:
                    click.echo(f"    ... and {len(report.dangling) - AUDIT_SHOWN} more")
        if any(r.dangling for r in reports):
            click.get_current_context().exit(1)
        if any(r.error for r in reports):
            click.get_current_context().exit(2)

    @cli.command("new-plugin")
    @click.argument("name")
    @click.option("--dir", "directory", default=".", show_default=True, type=click.Path(file_okay=False))
    def new_plugin_cmd(name: str, directory: str) -> None:
        """Write a new plugin distribution NAME in DIR/NAME, ready for `pip install -e DIR/NAME`."""
        from byway.new_plugin import NewPluginError, write_plugin

        try:
            path = write_plugin(name, directory)
        except NewPluginError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"wrote plugin {name!r} to {path}")
        click.echo(f"next: pip install -e {path}[test]  then  byway plugins  /  cd {path} && pytest")

    @cli.command("status")
    @click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
    def status_cmd(as_json: bool) -> None:
        """Per plugin: database at head, what the plugin reports (outbox, reconcile), remote plugins reachable.

        Exits 1 when something needs attention (for cron or a container health check), else 0.
        """
        statuses = run_with_host(status.collect, migrate_now=False)
        if as_json:
            ok = all(s.ok for s in statuses)
            click.echo(json.dumps({"ok": ok, "plugins": [s.to_json() for s in statuses]}, indent=2))
        else:
            for line in status.render(statuses):
                click.echo(line)
        if not all(s.ok for s in statuses):
            click.get_current_context().exit(1)

    @cli.command()
    def demo() -> None:
        """Seed demo data (each plugin contributes its part); safe to run twice."""
        run_with_host(lambda h: run_demo(h), migrate_now=True)

    for runtime in host.plugins.values():
        host.call_hook(runtime, "byway_register_commands", cli=cli)
    return cli


#: How many dangling ids ``byway audit`` prints per relation (``--json`` lists them all).
AUDIT_SHOWN = 20


def _audit_line(report: relations.RelationReport) -> str:
    head = f"{report.relation.source} -> {report.relation.target}"
    if report.skipped:
        return f"{head}: skipped ({report.skipped})"
    line = f"{head}: {report.checked} checked, {len(report.dangling)} dangling"
    return f"{line}; not finished: {report.error}" if report.error else line


def _default_host() -> Host:
    try:
        return Host(load_settings())
    except (PluginError, ConfigurationError) as exc:
        raise click.ClickException(str(exc)) from exc


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``byway`` console script; plugins add their commands here."""
    try:
        host = _default_host()
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    build_cli(host).main(args=argv, prog_name="byway")
