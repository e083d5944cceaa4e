"""Per-plugin migrations: own version table, own database, own history; makemigrations."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

import tests.plugins.kv as kv
import tests.plugins.notes as notes
import tests.plugins.relay as relay
from byway import migrate
from byway.host import Host
from byway.plugins import PluginError
from byway.runtime import PluginRuntime
from byway.settings import Settings

NOTES_HEAD = "5b7940405571"
KV_HEAD = "2a4384147534"


def sqlite_tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


async def tables_of(runtime: PluginRuntime) -> set[str]:
    def names(connection: Connection) -> set[str]:
        return set(inspect(connection).get_table_names())

    async with runtime.db.engine.connect() as conn:
        return await conn.run_sync(names)


def test_version_table_name() -> None:
    assert migrate.version_table("notes") == "alembic_version_notes"
    assert migrate.version_table("teach-internal") == "alembic_version_teach_internal"


async def test_each_plugin_has_its_own_database_and_version_table(settings: Settings) -> None:
    host = Host(settings, [notes, kv, relay], load_entrypoints=False)
    await host.open(migrate_now=False)
    try:
        assert await migrate.current_heads(host.plugins["notes"]) == set()
        assert await host.migrate() == {"notes": NOTES_HEAD, "kv": KV_HEAD}
        assert await host.migrate() == {"notes": NOTES_HEAD, "kv": KV_HEAD}  # idempotent
        assert await migrate.current_heads(host.plugins["notes"]) == migrate.script_heads(host.plugins["notes"])
    finally:
        await host.close()
    data = settings.data_dir
    assert sorted(p.name for p in data.glob("*.db")) == ["kv.db", "notes.db"]
    assert sqlite_tables(data / "notes.db") == {"notes", "alembic_version_notes"}
    assert sqlite_tables(data / "kv.db") == {"kv_items", "alembic_version_kv"}


async def test_migrations_on_every_backend(settings: Settings, database_url: str) -> None:
    host = Host(settings.with_overrides(database_url=database_url), [notes, kv], load_entrypoints=False)
    await host.open(migrate_now=True)
    try:
        assert await tables_of(host.plugins["notes"]) == {"notes", "alembic_version_notes"}
        assert await tables_of(host.plugins["kv"]) == {"kv_items", "alembic_version_kv"}
        assert await migrate.current_heads(host.plugins["kv"]) == {KV_HEAD}
        if database_url:
            assert host.plugins["notes"].db.url.database != host.plugins["kv"].db.url.database
            assert host.plugins["kv"].db.url.database.endswith("_kv")
    finally:
        await host.close()


async def test_plugins_sharing_one_database_keep_separate_histories(
    settings: Settings, database_url: str, tmp_path: Path
) -> None:
    shared = database_url.replace("{plugin}", "shared") if database_url else f"sqlite:///{tmp_path / 'one.db'}"
    host = Host(settings.with_overrides(database_url=shared), [notes, kv], load_entrypoints=False)
    await host.open(migrate_now=False)
    try:
        assert await host.migrate("kv") == {"kv": KV_HEAD}
        assert await tables_of(host.plugins["notes"]) == {"kv_items", "alembic_version_kv"}
        assert await host.migrate("notes") == {"notes": NOTES_HEAD}
        assert await tables_of(host.plugins["kv"]) == {
            "kv_items",
            "alembic_version_kv",
            "notes",
            "alembic_version_notes",
        }
        assert await migrate.current_heads(host.plugins["kv"]) == {KV_HEAD}
        assert await migrate.current_heads(host.plugins["notes"]) == {NOTES_HEAD}
    finally:
        await host.close()


async def test_migrating_one_plugin_leaves_the_others(settings: Settings) -> None:
    host = Host(settings, [notes, kv], load_entrypoints=False)
    await host.open(migrate_now=False)
    try:
        assert await host.migrate("notes") == {"notes": NOTES_HEAD}
        assert await migrate.current_heads(host.plugins["kv"]) == set()
        with pytest.raises(PluginError, match="no plugin named 'nope'"):
            await host.migrate("nope")
    finally:
        await host.close()


def test_make_revision_writes_only_the_plugins_changes(settings: Settings, notes_copy: ModuleType) -> None:
    host = Host(settings, [notes_copy, kv], load_entrypoints=False)
    runtime = host.plugins["notes"]
    path = migrate.make_revision(runtime, "add pinned")
    assert path.parent == runtime.migrations_dir
    assert path.name.endswith("_add_pinned.py")
    text = path.read_text()
    assert "add_column" in text and "'pinned'" in text
    # Byway's UTCDateTime is rendered as the column type it stores, so the revision imports nothing of ours.
    assert "sa.Column('edited_at', sa.DateTime(timezone=True)" in text and "UTCDateTime" not in text
    assert re.search(rf"^down_revision: .* = ['\"]{NOTES_HEAD}['\"]$", text, re.MULTILINE)
    assert re.search(r"batch_alter_table\(['\"]notes['\"]", text)  # SQLite-safe batch mode
    assert "kv_items" not in text and "create_table" not in text and "drop_table" not in text
    assert (settings.data_dir / "notes.db").exists() is False  # the scratch database is elsewhere


async def test_generated_revision_upgrades_a_real_database(
    settings: Settings, database_url: str, notes_copy: ModuleType
) -> None:
    host = Host(settings.with_overrides(database_url=database_url), [notes_copy], load_entrypoints=False)
    runtime = host.plugins["notes"]
    assert migrate.script_heads(runtime) == {NOTES_HEAD}
    # make_revision runs its own event loop (it is called from the CLI), so here it runs in a thread.
    await asyncio.to_thread(migrate.make_revision, runtime, "add pinned")
    new_head = migrate.script_heads(runtime)
    assert new_head != {NOTES_HEAD}
    await host.open(migrate_now=True)
    try:
        assert await migrate.current_heads(runtime) == new_head

        def columns(connection: Connection) -> set[str]:
            return {c["name"] for c in inspect(connection).get_columns("notes")}

        async with runtime.db.engine.connect() as conn:
            assert {"pinned", "edited_at"} <= await conn.run_sync(columns)
    finally:
        await host.close()


def test_plugin_without_models_has_no_migrations(settings: Settings) -> None:
    runtime = Host(settings, [relay], load_entrypoints=False).plugins["relay"]
    with pytest.raises(RuntimeError, match="has no migrations"):
        migrate.alembic_config(runtime)
    with pytest.raises(RuntimeError, match="has no database"):
        runtime.db  # noqa: B018
