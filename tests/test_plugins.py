"""Discovery: entry points, duplicates, import failures, disabled plugins, misspelled hooks, relations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData

import byway
import tests.plugins.dangling as dangling
import tests.plugins.dupe_notes as dupe_notes
import tests.plugins.kv as kv
import tests.plugins.misspelled as misspelled
import tests.plugins.notes as notes
import tests.plugins.relay as relay
from byway.app import create_app
from byway.declarations import GraphQLApi, Operation, PluginInfo, Relation
from byway.host import Host
from byway.plugins import ENTRY_POINT_GROUP, PluginError, build_plugin_manager
from byway.runtime import PluginRuntime
from byway.settings import Settings
from byway.testing import serve_app
from tests.conftest import Dists


class Inline:
    """A plugin object built in a test: a name plus whatever hooks the test adds."""

    def __init__(self, name: str) -> None:
        self.name = name

    @byway.hookimpl
    def byway_register_plugin(self) -> PluginInfo:
        return PluginInfo(name=self.name)


def test_entry_point_group_name() -> None:
    assert ENTRY_POINT_GROUP == "byway.plugins"


def test_plugins_load_from_entry_points_with_their_distribution(
    settings: Settings, fake_entry_points: Callable[[Dists], None]
) -> None:
    fake_entry_points(
        {"byway-notes": {"notes": "tests.plugins.notes"}, "byway-relay": {"relay": "tests.plugins.relay"}}
    )
    host = Host(settings)
    assert set(host.plugins) == {"notes", "relay"}
    loaded = host.plugins["notes"].loaded
    assert (loaded.distribution, loaded.version, loaded.obj) == ("byway-notes", "1.2.3", notes)


def test_tests_never_load_installed_entry_points(settings: Settings, no_entry_points: None) -> None:
    assert set(Host(settings, [notes], load_entrypoints=False).plugins) == {"notes"}
    app = create_app(settings, [notes])  # plugins given: entry points stay unloaded
    assert set(app.state.host.plugins) == {"notes"}


def test_a_plugin_given_twice_is_loaded_once(settings: Settings) -> None:
    host = Host(settings, [notes, notes], load_entrypoints=False)
    assert list(host.plugins) == ["notes"]


def test_duplicate_names_fail_naming_both_distributions(
    settings: Settings, fake_entry_points: Callable[[Dists], None]
) -> None:
    fake_entry_points(
        {"byway-notes": {"notes": "tests.plugins.notes"}, "byway-notes-fork": {"n2": "tests.plugins.dupe_notes"}}
    )
    with pytest.raises(PluginError) as failure:
        Host(settings)
    assert str(failure.value) == (
        "two plugins are named 'notes' (mount path /api/notes/): "
        "distribution byway-notes and distribution byway-notes-fork"
    )


def test_duplicate_names_of_direct_plugins_fail(settings: Settings) -> None:
    with pytest.raises(PluginError, match=r"tests\.plugins\.notes.*tests\.plugins\.dupe_notes"):
        Host(settings, [notes, dupe_notes], load_entrypoints=False)


def test_import_failure_names_the_plugin_and_the_error(
    settings: Settings, fake_entry_points: Callable[[Dists], None]
) -> None:
    fake_entry_points({"byway-broken": {"broken": "tests.plugins.broken_import"}})
    with pytest.raises(PluginError) as failure:
        Host(settings)
    message = str(failure.value)
    assert "'broken'" in message and "byway-broken" in message
    assert "ModuleNotFoundError" in message and "byway_module_that_does_not_exist" in message


def test_disabled_entry_point_is_not_even_imported(
    settings: Settings, fake_entry_points: Callable[[Dists], None]
) -> None:
    fake_entry_points(
        {"byway-broken": {"broken": "tests.plugins.broken_import"}, "byway-notes": {"notes": "tests.plugins.notes"}}
    )
    host = Host(settings.with_overrides(disabled_plugins=("broken",)))
    assert set(host.plugins) == {"notes"}


async def test_disabled_plugins_are_not_mounted(settings: Settings) -> None:
    app = create_app(settings.with_overrides(disabled_plugins=("relay",)), [notes, relay])
    assert set(app.state.host.plugins) == {"notes"}
    async with serve_app(app) as client:
        assert (await client.post("/api/relay/graphql", json={"query": "{ __typename }"})).status_code == 404
        assert (await client.post("/api/notes/graphql", json={"query": "{ __typename }"})).status_code == 200


def test_misspelled_hook_fails_check_pending(settings: Settings) -> None:
    with pytest.raises(PluginError, match="byway_register_shema"):
        Host(settings, [misspelled], load_entrypoints=False)


def test_plugin_without_a_name_fails() -> None:
    class Nameless:
        @byway.hookimpl
        def byway_register_schema(self) -> GraphQLApi:
            return GraphQLApi("type Query { a: Int }")

    with pytest.raises(PluginError, match="byway_register_plugin"):
        build_plugin_manager([Nameless()], load_entrypoints=False)


def test_invalid_plugin_name_fails() -> None:
    with pytest.raises(PluginError, match="invalid plugin name 'Bad_Name'"):
        build_plugin_manager([Inline("Bad_Name")], load_entrypoints=False)


def test_relation_to_a_missing_plugin_fails_start_up(settings: Settings) -> None:
    with pytest.raises(PluginError, match=r"dangling\.Haunting\.ghostId -> ghost\.Ghost needs plugin 'ghost'"):
        Host(settings, [dangling], load_entrypoints=False)
    with pytest.raises(PluginError, match="needs plugin 'ghost'"):
        create_app(settings, [notes, dangling])


def test_optional_relation_to_a_missing_plugin_is_allowed(settings: Settings) -> None:
    class Holder(Inline):
        @byway.hookimpl
        def byway_register_relations(self) -> list[Relation]:
            return [Relation("holder.Thing.ghostId", "ghost.Ghost", optional=True)]

    host = Host(settings, [Holder("holder")], load_entrypoints=False)
    assert [(r.source_plugin, r.target_plugin) for r in host.relations] == [("holder", "ghost")]


def test_relation_to_a_plugin_served_elsewhere_is_allowed(settings: Settings) -> None:
    elsewhere = settings.with_overrides(plugin_urls={"ghost": "http://ghost.internal:8000"})
    assert Host(elsewhere, [dangling], load_entrypoints=False).relations[0].target == "ghost.Ghost"


def test_relation_to_a_loaded_plugin_is_kept(settings: Settings) -> None:
    class Holder(Inline):
        @byway.hookimpl
        def byway_register_relations(self) -> list[Relation]:
            return [Relation("holder.Pin.noteId", "notes.Note", enforced_by=("notes.note",))]

    host = Host(settings, [notes, Holder("holder")], load_entrypoints=False)
    assert host.relations[0].target == "notes.Note"


def test_models_without_migrations_fail(settings: Settings) -> None:
    class NoMigrations(Inline):
        @byway.hookimpl
        def byway_register_models(self) -> MetaData:
            return MetaData()

    with pytest.raises(PluginError, match="no migrations directory"):
        Host(settings, [NoMigrations("nomig")], load_entrypoints=False)


def test_missing_migrations_directory_fails(settings: Settings, tmp_path: Path) -> None:
    class Missing(Inline):
        @byway.hookimpl
        def byway_register_models(self) -> MetaData:
            return MetaData()

        @byway.hookimpl
        def byway_register_migrations(self) -> Path:
            return tmp_path / "nowhere"

    with pytest.raises(PluginError, match="does not exist"):
        Host(settings, [Missing("missing")], load_entrypoints=False)


def test_invalid_schema_fails_naming_the_plugin(settings: Settings) -> None:
    class BadSchema(Inline):
        @byway.hookimpl
        def byway_register_schema(self) -> GraphQLApi:
            return GraphQLApi("type Query { a: NoSuchType }")

    with pytest.raises(PluginError, match="'bad-schema': invalid GraphQL schema"):
        Host(settings, [BadSchema("bad-schema")], load_entrypoints=False)


def test_hook_returning_the_wrong_type_fails(settings: Settings) -> None:
    class WrongType(Inline):
        @byway.hookimpl
        def byway_register_schema(self) -> Any:
            return "type Query { a: Int }"

    with pytest.raises(PluginError, match="'wrong': byway_register_schema must return"):
        Host(settings, [WrongType("wrong")], load_entrypoints=False)


def test_hook_raising_fails_naming_the_plugin_and_hook(settings: Settings) -> None:
    class Raising(Inline):
        @byway.hookimpl
        def byway_register_jobs(self, plugin: PluginRuntime) -> list[Any]:
            raise KeyError("interval")

    with pytest.raises(PluginError, match=r"'raising'.*byway_register_jobs: KeyError"):
        Host(settings, [Raising("raising")], load_entrypoints=False)


def test_hooks_are_per_plugin(settings: Settings) -> None:
    host = Host(settings, [notes, kv, relay], load_entrypoints=False)
    assert host.plugins["notes"].metadata is notes.metadata
    assert host.plugins["kv"].metadata is kv.metadata
    assert host.plugins["relay"].database is None
    assert [op.target for op in host.operations["relay"]] == ["notes"] * 4
    assert host.operations["notes"] == []
    assert [job.name for job in host.jobs["notes"]] == ["tick"]


async def test_operation_the_target_no_longer_accepts_fails_start_up(settings: Settings) -> None:
    class Caller(Inline):
        @byway.hookimpl
        def byway_register_operations(self) -> list[Operation]:
            return [Operation("notes", "query { note(id: 1) { title } }")]

    app = create_app(settings, [notes, Caller("caller")])
    with pytest.raises(PluginError, match="'caller' sends an operation that 'notes' no longer accepts"):
        async with serve_app(app):
            pass


async def test_operations_to_plugins_not_loaded_are_skipped(settings: Settings) -> None:
    class Caller(Inline):
        @byway.hookimpl
        def byway_register_operations(self) -> list[Operation]:
            return [Operation("elsewhere", "query { anything }")]

    async with serve_app(create_app(settings, [Caller("caller")])) as client:
        assert (await client.get("/readyz")).status_code == 200
