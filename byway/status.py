"""``byway status``: what needs an operator's attention, per plugin, in one look.

For each loaded plugin: its database is reachable and at its head revision, then whatever the
plugin reports through the ``byway_status`` hook (ecommerce: outbox backlog and oldest age,
failed rows, last reconcile and its result). For each plugin configured with its own URL
(``BYWAY_PLUGIN_URL_<P>``): its server answers ``/readyz``. Usable from cron or a container
health check: the command exits 1 when any check needs attention.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from byway import migrate

if TYPE_CHECKING:
    from byway.host import Host
    from byway.runtime import PluginRuntime

#: Seconds a remote plugin's server gets to answer ``/readyz``.
REMOTE_TIMEOUT = 5.0


@dataclass(frozen=True)
class StatusCheck:
    """One checked fact about a plugin: ``ok`` False means an operator should look."""

    name: str
    ok: bool
    detail: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The check as JSON (``byway status --json``)."""
        return {
            "name": self.name,
            "ok": self.ok,
            "detail": self.detail,
            **({"data": dict(self.data)} if self.data else {}),
        }


@dataclass
class PluginStatus:
    """The checks of one plugin (or of one remote plugin's server)."""

    plugin: str
    checks: list[StatusCheck]
    remote: bool = False

    @property
    def ok(self) -> bool:
        """True when no check needs attention."""
        return all(check.ok for check in self.checks)

    def to_json(self) -> dict[str, Any]:
        """The plugin's checks as JSON."""
        return {
            "plugin": self.plugin,
            "ok": self.ok,
            "remote": self.remote,
            "checks": [c.to_json() for c in self.checks],
        }


async def database_check(runtime: PluginRuntime) -> StatusCheck:
    """The plugin's database answers and is at the head revision of its migrations."""
    try:
        current = await migrate.current_heads(runtime)
        head = migrate.script_heads(runtime)
    except Exception as exc:
        return StatusCheck("database", False, f"unreachable: {type(exc).__name__}")
    revision = ",".join(sorted(current)) or "base"
    heads = ",".join(sorted(head)) or "base"
    if current != head:
        return StatusCheck(
            "database", False, f"at {revision}, head is {heads}: run `byway migrate`", {"revision": revision}
        )
    return StatusCheck("database", True, f"reachable, at head {heads}", {"revision": revision})


async def plugin_checks(host: Host, runtime: PluginRuntime) -> list[StatusCheck]:
    """What the plugin's ``byway_status`` hook reports (a failing hook is itself a finding)."""
    checks: list[StatusCheck] = []
    try:
        for result in host.call_hook(runtime, "byway_status", plugin=runtime):
            if inspect.isawaitable(result):
                result = await result
            checks.extend(result)
    except Exception as exc:
        checks.append(StatusCheck("status", False, f"the plugin's status check failed: {type(exc).__name__}: {exc}"))
    return checks


async def remote_check(name: str, base_url: str) -> PluginStatus:
    """A plugin served elsewhere: its server's ``/readyz`` answers 200."""
    try:
        async with httpx.AsyncClient(timeout=REMOTE_TIMEOUT) as http:
            response = await http.get(f"{base_url.rstrip('/')}/readyz")
        ok = response.status_code == 200
        detail = f"{base_url} ready" if ok else f"{base_url} answered {response.status_code}"
    except httpx.HTTPError as exc:
        ok, detail = False, f"{base_url} unreachable: {type(exc).__name__}"
    return PluginStatus(name, [StatusCheck("reachable", ok, detail)], remote=True)


async def collect(host: Host) -> list[PluginStatus]:
    """Every plugin's status (the databases must be open: see ``run_with_host``)."""

    async def local(runtime: PluginRuntime) -> PluginStatus:
        checks = [await database_check(runtime)] if runtime.database is not None else []
        checks.extend(await plugin_checks(host, runtime))
        return PluginStatus(runtime.name, checks)

    statuses = [await local(runtime) for runtime in host.plugins.values()]
    remote = [(name, url) for name, url in host.settings.plugin_urls.items()]
    statuses.extend(await asyncio.gather(*(remote_check(name, url) for name, url in remote)))
    return statuses


def render(statuses: list[PluginStatus]) -> list[str]:
    """The human-readable report, one line per check."""
    lines: list[str] = []
    width = max((len(c.name) for s in statuses for c in s.checks), default=8)
    for status in statuses:
        lines.append(f"{status.plugin}{' (remote)' if status.remote else ''}: {'ok' if status.ok else 'ATTENTION'}")
        if not status.checks:
            lines.append("  (nothing to check)")
        for check in status.checks:
            lines.append(f"  {check.name.ljust(width)}  {'ok' if check.ok else 'ATTENTION':9}  {check.detail}")
    return lines
