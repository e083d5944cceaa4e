"""The application: health and readiness, the lifespan (databases, start-up hooks, jobs)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import byway
import tests.plugins.kv as kv
import tests.plugins.lifecycle as lifecycle
import tests.plugins.notes as notes
import tests.plugins.relay as relay
from byway.app import create_app
from byway.declarations import PluginInfo
from byway.plugins import PluginError
from byway.runtime import PluginRuntime
from byway.settings import Settings
from byway.testing import running_app, serve_app

NOTES_HEAD = "5b7940405571"
CLOSED_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/byway_unreachable"


async def test_healthz(settings: Settings) -> None:
    async with running_app([notes], settings) as app:
        response = await app.client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_every_plugin(settings: Settings) -> None:
    async with running_app([notes, kv, relay], settings) as app:
        response = await app.client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["plugins"]["notes"] == {"ready": True, "revision": NOTES_HEAD, "head": NOTES_HEAD}
    assert body["plugins"]["kv"]["ready"] is True and body["plugins"]["kv"]["revision"]
    assert body["plugins"]["relay"] == {"ready": True, "database": None}


async def test_readyz_is_503_until_migrated(settings: Settings, database_url: str) -> None:
    manual = settings.with_overrides(auto_migrate=False, database_url=database_url)
    async with running_app([notes, kv], manual) as app:
        before = await app.client.get("/readyz")
        assert before.status_code == 503
        assert before.json()["status"] == "not ready"
        assert before.json()["plugins"]["notes"] == {"ready": False, "revision": None, "head": NOTES_HEAD}
        assert await app.host.migrate("notes") == {"notes": NOTES_HEAD}
        half = await app.client.get("/readyz")
        assert half.status_code == 503 and half.json()["plugins"]["notes"]["ready"] is True
        await app.host.migrate()
        after = await app.client.get("/readyz")
    assert after.status_code == 200
    assert after.json()["plugins"]["notes"]["revision"] == NOTES_HEAD


async def test_unreachable_database_makes_readyz_503_without_crashing(settings: Settings) -> None:
    unreachable = settings.with_overrides(auto_migrate=False, database_urls={"notes": CLOSED_POSTGRES})
    async with running_app([notes, relay], unreachable) as app:
        response = await app.client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["plugins"]["notes"] == {"ready": False, "error": "database unreachable"}
        assert response.json()["plugins"]["relay"]["ready"] is True
        assert (await app.client.get("/healthz")).status_code == 200
        body = await app.gql("notes", "{ notes { id } }", token=app.token("u1"))
        assert body["_status"] == 200
        assert body["errors"][0]["extensions"] == {"code": "INTERNAL"}
        assert "127.0.0.1" not in str(body)


async def test_unreachable_database_fails_start_up_when_migrating(settings: Settings) -> None:
    app = create_app(settings.with_overrides(database_urls={"notes": CLOSED_POSTGRES}), [notes])
    with pytest.raises(PluginError, match="plugin 'notes': migrating its database failed"):
        async with serve_app(app):
            pass
    assert app.state.host.plugins["notes"].database._engine is None  # disposed after the failure


async def test_readyz_is_503_when_a_database_goes_away(settings: Settings) -> None:
    async with running_app([notes], settings) as app:
        assert (await app.client.get("/readyz")).status_code == 200
        await app.host.plugins["notes"].db.close()
        response = await app.client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["plugins"]["notes"]["error"] == "database unreachable"


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Poll ``condition`` until it holds; fail after ``within`` seconds (no fixed sleeps)."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


async def test_jobs_run_periodically_and_stop_at_shutdown(settings: Settings) -> None:
    lifecycle.EVENTS.clear()
    configured = settings.with_overrides(plugins={"lifecycle": {"interval": "0.02"}})
    async with running_app([lifecycle], configured) as app:
        assert lifecycle.EVENTS == ["startup:lifecycle"]
        await until(lambda: lifecycle.EVENTS.count("job:beat") >= 3 and lifecycle.EVENTS.count("job:broken") >= 3)
        tasks = list(app.host._job_tasks)
        assert len(tasks) == 2  # the disabled job never starts
    after_stop = list(lifecycle.EVENTS)
    assert all(task.done() for task in tasks)  # cancelled and awaited by the shut-down
    for _ in range(20):
        await asyncio.sleep(0)  # let anything still scheduled run: nothing may
    assert lifecycle.EVENTS == after_stop  # nothing runs after shut-down
    assert after_stop[0] == "startup:lifecycle" and after_stop[-1] == "shutdown:lifecycle"
    assert after_stop.count("job:beat") >= 3
    assert after_stop.count("job:broken") >= 3  # a failing job keeps its schedule
    assert "job:off" not in after_stop


async def test_notes_job_uses_its_configuration(settings: Settings) -> None:
    notes.JOB_RUNS.clear()
    async with running_app([notes], settings.with_overrides(plugins={"notes": {"tick_seconds": 0.01}})):
        await until(lambda: notes.JOB_RUNS.count("notes") >= 3)
    assert notes.JOB_RUNS.count("notes") >= 3


class FailingStartup:
    def __init__(self, asynchronous: bool) -> None:
        self.asynchronous = asynchronous

    @byway.hookimpl
    def byway_register_plugin(self) -> PluginInfo:
        return PluginInfo(name="cache-warmer")

    @byway.hookimpl
    def byway_startup(self, plugin: PluginRuntime) -> object:
        async def fail() -> None:
            raise ConnectionError("cache server refused")

        if self.asynchronous:
            return fail()
        raise ConnectionError("cache server refused")


@pytest.mark.parametrize("asynchronous", [True, False])
async def test_startup_hook_failure_fails_start_up_naming_the_plugin(settings: Settings, asynchronous: bool) -> None:
    app = create_app(settings, [notes, FailingStartup(asynchronous)])
    with pytest.raises(PluginError, match=r"'cache-warmer'.*byway_startup: ConnectionError: cache server refused"):
        async with serve_app(app):
            pass
    assert app.state.host.plugins["notes"].database._engine is None
    assert app.state.host.started is False


class FailingShutdown:
    @byway.hookimpl
    def byway_register_plugin(self) -> PluginInfo:
        return PluginInfo(name="sloppy")

    @byway.hookimpl
    async def byway_shutdown(self, plugin: PluginRuntime) -> None:
        raise RuntimeError("could not flush")


async def test_shutdown_failure_is_logged_and_the_rest_still_shuts_down(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    lifecycle.EVENTS.clear()
    app = create_app(settings, [FailingShutdown(), lifecycle, notes])
    async with serve_app(app):
        pass
    assert lifecycle.EVENTS[-1] == "shutdown:lifecycle"
    assert "shut-down of plugin sloppy failed" in caplog.text
    assert app.state.host.plugins["notes"].database._engine is None


async def test_create_app_reads_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, byway_settings: Settings
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BYWAY_DATA_DIR", str(tmp_path / "envdata"))
    monkeypatch.setenv("BYWAY_JWT_SECRET", byway_settings.jwt_secret)
    monkeypatch.setenv("BYWAY_MAX_QUERY_DEPTH", "4")
    app = create_app(plugins=[notes])
    host = app.state.host
    assert host.settings.data_dir == tmp_path / "envdata"
    assert host.plugins["notes"].executor.max_depth == 4
    async with serve_app(app) as client:
        assert (await client.get("/readyz")).status_code == 200
    assert (tmp_path / "envdata" / "notes.db").is_file()


async def test_failed_start_up_shuts_down_the_plugins_already_started(settings: Settings) -> None:
    lifecycle.EVENTS.clear()
    app = create_app(settings, [lifecycle, FailingStartup(True)])
    with pytest.raises(PluginError, match="cache-warmer"):
        async with serve_app(app):
            pass
    assert lifecycle.EVENTS == ["startup:lifecycle", "shutdown:lifecycle"]
