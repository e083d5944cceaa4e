"""Every installed plugin's migrations, on SQLite and PostgreSQL: the database at head matches its
models (no autogenerate diff), and upgrade -> downgrade -> upgrade round-trips, leaving nothing of
the plugin behind at base. Plugins come from the ``byway.plugins`` entry points, so a new plugin is
covered the day it is installed (a mutation run dropped a UNIQUE and a downgrade's drop_table, and
no test noticed)."""

from __future__ import annotations

import importlib.metadata
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from byway import migrate
from byway.host import Host
from byway.runtime import PluginRuntime
from byway.settings import Settings
from byway.testing import plugins_required

ENTRY_POINTS = sorted({ep.name for ep in importlib.metadata.entry_points(group="byway.plugins")})
FIRST_PARTY = {"authentication", "teach", "teach-internal", "students-internal", "ecommerce"}


def test_the_first_party_plugins_are_installed() -> None:
    missing = FIRST_PARTY - set(ENTRY_POINTS)
    if missing and not plugins_required():
        pytest.skip(f"not installed: {sorted(missing)} (set BYWAY_TEST_PLUGINS=required to fail instead)")
    assert not missing


def _diff(connection: Connection, runtime: PluginRuntime) -> list[Any]:
    own = set(runtime.metadata.tables) if runtime.metadata is not None else set()
    # As migrations/env.py: objects the plugin's migrations manage by hand are not compared.
    unmanaged = set(runtime.metadata.info.get("unmanaged", ())) if runtime.metadata is not None else set()

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        if name in unmanaged:
            return False
        return name in own if type_ == "table" else True

    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_name": include_name,
            "version_table": migrate.version_table(runtime.name),
            "target_metadata": runtime.metadata,
        },
    )
    return list(compare_metadata(context, runtime.metadata))  # type: ignore[arg-type]


def _round_trip(connection: Connection, runtime: PluginRuntime) -> dict[str, Any]:
    config = migrate.alembic_config(runtime, connection)
    command.upgrade(config, "head")
    at_head = _diff(connection, runtime)
    command.downgrade(config, "base")
    left = set(inspect(connection).get_table_names()) & set(runtime.metadata.tables)  # type: ignore[union-attr]
    command.upgrade(config, "head")
    again = _diff(connection, runtime)
    return {"at_head": at_head, "left_at_base": left, "after_round_trip": again}


@pytest.mark.parametrize("plugin", ENTRY_POINTS)
async def test_migrations_match_models_and_round_trip(plugin: str, settings: Settings, database_url: str) -> None:
    host = Host(settings.with_overrides(database_url=database_url), load_entrypoints=True)
    runtime = host.plugins.get(plugin)
    if runtime is None or runtime.database is None:
        pytest.skip(f"{plugin} has no database")  # a plugin without models has no migrations to check
    await runtime.database.open(create_database=True)
    try:
        async with runtime.database.engine.begin() as conn:
            result = await conn.run_sync(_round_trip, runtime)
    finally:
        await host.close()
    assert result["at_head"] == [], f"{plugin}: the database at head differs from the models"
    assert result["left_at_base"] == set(), f"{plugin}: downgrade to base leaves tables behind"
    assert result["after_round_trip"] == [], f"{plugin}: upgrade after downgrade differs from the models"
