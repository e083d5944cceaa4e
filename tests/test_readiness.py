"""Finding 5: /readyz checks the database through a fresh connection (the attack deleted and damaged
SQLite files while serving), and remote plugins' reachability; files are owner-only; dev mode warns
loudly when it listens beyond loopback."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

import tests.plugins.kv as kv
import tests.plugins.notes as notes
from byway.app import create_app
from byway.cli import build_cli
from byway.host import Host
from byway.security import exposure_warning, is_loopback
from byway.settings import Settings
from byway.testing import free_port, live_server, running_app


def scribble(path: Path, offsets: range | list[int], data: bytes) -> None:
    with open(path, "r+b") as fh:
        for offset in offsets:
            fh.seek(offset)
            fh.write(data)


async def readyz(client: httpx.AsyncClient) -> tuple[int, dict[str, object]]:
    response = await client.get("/readyz")
    return response.status_code, response.json()["plugins"]


async def test_deleted_sqlite_file_is_not_ready(settings: Settings) -> None:
    async with running_app([notes, kv], settings, transport="inprocess") as app:
        assert (await readyz(app.client))[0] == 200
        os.unlink(settings.data_dir / "notes.db")
        status, plugins = await readyz(app.client)
    assert status == 503
    assert plugins["notes"] == {"ready": False, "error": "database file missing"}
    assert plugins["kv"]["ready"] is True  # type: ignore[index]


async def test_replaced_sqlite_file_is_not_ready(settings: Settings) -> None:
    async with running_app([notes], settings, transport="inprocess") as app:
        path = settings.data_dir / "notes.db"
        shutil.copy(path, settings.data_dir / "copy.db")
        os.replace(settings.data_dir / "copy.db", path)  # same content, another file
        status, plugins = await readyz(app.client)
    assert status == 503 and plugins["notes"] == {"ready": False, "error": "database file replaced since start-up"}


async def test_overwritten_header_is_not_ready(settings: Settings) -> None:
    async with running_app([notes], settings, transport="inprocess") as app:
        scribble(settings.data_dir / "notes.db", [0], b"\0" * 100)
        status, plugins = await readyz(app.client)
    assert status == 503 and plugins["notes"] == {"ready": False, "error": "database file damaged (bad header)"}


async def test_damaged_pages_fail_the_quick_check(settings: Settings) -> None:
    async with running_app([notes], settings, transport="inprocess") as app:
        token = app.token("u1")
        for i in range(200):
            await app.gql("notes", f'mutation {{ addNote(text: "note {i} {"x" * 200}") {{ id }} }}', token=token)
        path = settings.data_dir / "notes.db"
        async with app.host.plugins["notes"].db.engine.connect() as conn:
            await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        size = path.stat().st_size
        scribble(path, range(4096, size, 4096), b"\xff" * 64)  # every page but the first (the schema)
        status, plugins = await readyz(app.client)
    assert status == 503 and plugins["notes"]["ready"] is False  # type: ignore[index]
    assert "damaged" in plugins["notes"]["error"] or "unreadable" in plugins["notes"]["error"]  # type: ignore[index]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_postgres_readiness_uses_a_fresh_connection(settings: Settings, database_url: str) -> None:
    async with running_app([notes], settings.with_overrides(database_url=database_url), transport="inprocess") as app:
        assert (await readyz(app.client))[0] == 200
        url = app.host.plugins["notes"].db.url
        admin = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE "{url.database}" WITH (FORCE)'))
        finally:
            await admin.dispose()
        status, plugins = await readyz(app.client)
    assert status == 503 and plugins["notes"] == {"ready": False, "error": "database unreachable"}


async def test_remote_plugins_are_reported_and_services_get_ready_in_any_order(tmp_path: Path) -> None:
    """Two services that call each other: each is ready once the other is up, whichever starts first."""
    from byway.testing import make_settings

    port_a, port_b = free_port(), free_port()
    settings_a = make_settings(
        tmp_path / "a", plugin_urls={"kv": f"http://127.0.0.1:{port_b}"}, self_url=f"http://127.0.0.1:{port_a}"
    )
    settings_b = make_settings(
        tmp_path / "b", plugin_urls={"notes": f"http://127.0.0.1:{port_a}"}, self_url=f"http://127.0.0.1:{port_b}"
    )
    app_a, app_b = create_app(settings_a, [notes]), create_app(settings_b, [kv])
    async with live_server(app_a, port_a) as base_a, httpx.AsyncClient(base_url=base_a) as client_a:
        status, plugins = await readyz(client_a)
        assert status == 503
        assert plugins["kv"]["ready"] is False and "unreachable" in plugins["kv"]["error"]  # type: ignore[index]
        assert plugins["notes"]["ready"] is True  # type: ignore[index]
        async with live_server(app_b, port_b) as base_b, httpx.AsyncClient(base_url=base_b) as client_b:
            assert (await readyz(client_a))[0] == 200
            status_b, plugins_b = await readyz(client_b)
            assert status_b == 200
            assert plugins_b["notes"] == {"ready": True, "remote": f"http://127.0.0.1:{port_a}"}


def test_data_directory_and_database_files_are_owner_only(tmp_path: Path) -> None:
    from byway.testing import make_settings

    settings = make_settings(tmp_path / "data")
    import asyncio

    async def run() -> None:
        host = Host(settings, [notes], load_entrypoints=False)
        await host.open()
        await host.close()

    asyncio.run(run())
    assert stat.S_IMODE(settings.data_dir.stat().st_mode) == 0o700
    for name in ("notes.db", "notes.db-wal", "notes.db-shm"):
        path = settings.data_dir / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    assert (settings.data_dir / "notes.db").exists()


def test_existing_loose_permissions_are_tightened(tmp_path: Path) -> None:
    from byway.testing import make_settings

    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "notes.db").touch(mode=0o644)
    os.chmod(data, 0o755)
    os.chmod(data / "notes.db", 0o644)
    import asyncio

    async def run() -> None:
        host = Host(make_settings(data), [notes], load_entrypoints=False)
        await host.open()
        await host.close()

    asyncio.run(run())
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "notes.db").stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("bind", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.0.2.10", False),
        ("example.org", False),
    ],
)
def test_loopback_addresses(bind: str, loopback: bool) -> None:
    assert is_loopback(bind) is loopback
    warning = exposure_warning("dev", bind)
    assert (warning is None) is loopback
    assert exposure_warning("production", bind) is None


def test_serve_warns_loudly_in_dev_on_a_public_address(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    served: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: served.append(kw["host"]))
    monkeypatch.setenv("BYWAY_AUTO_MIGRATE", "0")
    host = Host(settings, [notes], load_entrypoints=False)
    public = CliRunner().invoke(build_cli(host), ["serve", "--host", "0.0.0.0"], catch_exceptions=False)
    local = CliRunner().invoke(build_cli(host), ["serve"], catch_exceptions=False)
    assert served == ["0.0.0.0", "127.0.0.1"]
    assert "WARNING: Byway is in DEV mode and listens on 0.0.0.0" in public.output
    assert "WARNING" not in local.output
