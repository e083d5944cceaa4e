"""``byway status``: per plugin, database at head, what the plugin reports, remote plugins reachable."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from click.testing import CliRunner, Result
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import tests.plugins.gauges as gauges
import tests.plugins.notes as notes
import tests.plugins.relay as relay
from byway.cli import build_cli
from byway.host import Host
from byway.settings import Settings
from byway.testing import free_port, live_server


def invoke(settings: Settings, *args: str, plugins: list[Any] | None = None) -> Result:
    host = Host(settings, plugins or [notes, relay, gauges], load_entrypoints=False)
    return CliRunner().invoke(build_cli(host), ["status", *args], catch_exceptions=False)


def report(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.output)
    return data


def checks(data: dict[str, Any], plugin: str) -> dict[str, dict[str, Any]]:
    (entry,) = [p for p in data["plugins"] if p["plugin"] == plugin]
    return {c["name"]: c for c in entry["checks"]}


def test_all_well_exits_0(settings: Settings) -> None:
    CliRunner().invoke(build_cli(Host(settings, [notes], load_entrypoints=False)), ["migrate"])
    result = invoke(settings, "--json")
    data = report(result)
    assert result.exit_code == 0, result.output
    assert data["ok"] is True
    assert checks(data, "notes")["database"]["ok"] is True
    assert checks(data, "gauges")["backlog"] == {
        "name": "backlog",
        "ok": True,
        "detail": "0 waiting",
        "data": {"backlog": 0},
    }
    assert checks(data, "relay") == {}  # nothing to check: no database, no hook
    text = invoke(settings)
    assert text.exit_code == 0 and "notes: ok" in text.output and "database" in text.output


def test_a_database_behind_its_head_needs_attention(settings: Settings) -> None:
    result = invoke(settings, "--json", plugins=[notes])  # never migrated
    assert result.exit_code == 1
    database = checks(report(result), "notes")["database"]
    assert database["ok"] is False and "byway migrate" in database["detail"]


def test_what_a_plugin_reports_decides_the_exit_code(settings: Settings) -> None:
    plugins = {"gauges": {"backlog": 12, "attention": "reconcile failed"}}
    result = invoke(settings.with_overrides(plugins=plugins), plugins=[gauges])
    assert result.exit_code == 1
    assert "gauges: ATTENTION" in result.output
    assert "backlog" in result.output and "12 waiting" in result.output and "reconcile failed" in result.output


async def test_remote_plugins_must_answer(settings: Settings) -> None:
    async def readyz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ready"})

    remote = Starlette(routes=[Route("/readyz", readyz)])
    async with live_server(remote) as base_url:
        urls = {"relay": base_url, "teach": f"http://127.0.0.1:{free_port()}"}
        result = await asyncio.to_thread(invoke, settings.with_overrides(plugin_urls=urls), "--json", plugins=[gauges])
    data = report(result)
    assert result.exit_code == 1
    remote_checks = {p["plugin"]: p for p in data["plugins"] if p["remote"]}
    assert remote_checks["relay"]["ok"] is True
    assert remote_checks["teach"]["ok"] is False
    assert "unreachable" in remote_checks["teach"]["checks"][0]["detail"]
