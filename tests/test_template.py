"""The plugin template's host side: conventions, the runtime's tokens/knows/slot, held_ids,
REST errors handled app-wide, typed plugin settings, and ``with``-only test helpers."""

from __future__ import annotations

import gc
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

import tests.plugins.notes as notes
import tests.plugins.shelf.plugin as shelf
from byway.app import create_app
from byway.host import Host
from byway.plugins import PluginError
from byway.settings import ConfigurationError, Settings
from byway.testing import FailingTransport, TestApp, error_codes, running_app
from tests.plugins.shelf.config import Counter, ShelfConfig
from tests.plugins.shelf.relations import HELD_NOTE_IDS

ADD = "mutation Add($text: String!) { addNote(text: $text) { id } }"
SHELVE = "mutation Shelve($id: ID!) { shelve(noteId: $id) { id noteId } }"


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[TestApp]:
    async with running_app([notes, shelf], settings) as test_app:
        yield test_app


# --- conventions ------------------------------------------------------------------------------


def test_a_plugin_py_with_only_its_name_is_wired_by_convention(settings: Settings) -> None:
    host = Host(settings, [notes, shelf], load_entrypoints=False)
    runtime = host.plugins["shelf"]
    assert runtime.metadata is not None and "shelf_items" in runtime.metadata.tables
    assert runtime.migrations_dir == Path(shelf.__file__).parent / "migrations"
    assert runtime.executor is not None and "shelve" in runtime.executor.schema.type_map["Mutation"].fields  # type: ignore[union-attr]
    assert [r.source for r in host.relations] == ["shelf.Item.noteId"]
    assert [op.target for op in host.operations["shelf"]] == ["notes"]
    assert [rt.name for rt, _ in host.demo_steps()] == ["notes", "shelf"]
    assert [getattr(route, "path", None) for route in host.routes_of(runtime)] == ["/echo"]


@pytest.fixture
def package_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on sys.path for packages written by a test (removed from sys.modules after)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if name.startswith("byway_conv_"):
            del sys.modules[name]


def write_package(root: Path, name: str, files: dict[str, str]) -> None:
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    for path, text in files.items():
        (package / path).write_text(textwrap.dedent(text))


PLUGIN_PY = """
import byway

@byway.hookimpl
def byway_register_plugin() -> byway.PluginInfo:
    return byway.PluginInfo(name="{name}")
"""


def test_explicit_hooks_win_over_conventions(settings: Settings, package_dir: Path) -> None:
    write_package(
        package_dir,
        "byway_conv_explicit",
        {
            "plugin.py": PLUGIN_PY.format(name="explicit")
            + "\n@byway.hookimpl\ndef byway_register_operations() -> list[byway.Operation]:\n    return []\n",
            "operations.py": 'import byway\nOPERATIONS = [byway.Operation("notes", "query { whoami }")]\n',
        },
    )
    import byway_conv_explicit.plugin as explicit  # type: ignore[import-not-found]

    host = Host(settings, [notes, explicit], load_entrypoints=False)
    assert host.operations["explicit"] == []


def test_a_conventional_module_without_its_name_fails_start_up_naming_both(
    settings: Settings, package_dir: Path
) -> None:
    write_package(
        package_dir,
        "byway_conv_misnamed",
        {"plugin.py": PLUGIN_PY.format(name="misnamed"), "operations.py": "OPS = []\n"},
    )
    import byway_conv_misnamed.plugin as misnamed  # type: ignore[import-not-found]

    with pytest.raises(PluginError, match=r"'misnamed'.*byway_conv_misnamed.operations must export OPERATIONS"):
        Host(settings, [misnamed], load_entrypoints=False)


def test_models_by_convention_need_a_migrations_folder(settings: Settings, package_dir: Path) -> None:
    write_package(
        package_dir,
        "byway_conv_nomig",
        {
            "plugin.py": PLUGIN_PY.format(name="nomig"),
            "models.py": "from sqlalchemy import MetaData\nmetadata = MetaData()\n",
        },
    )
    import byway_conv_nomig.plugin as nomig  # type: ignore[import-not-found]

    with pytest.raises(PluginError, match="'nomig' registers models but no migrations directory"):
        Host(settings, [nomig], load_entrypoints=False)


def test_a_package_without_the_conventional_modules_gets_nothing_by_convention(settings: Settings) -> None:
    host = Host(settings, [notes], load_entrypoints=False)
    assert host.operations["notes"] == [] and host.relations == []


# --- the runtime ------------------------------------------------------------------------------


async def test_runtime_offers_tokens_and_knows(app: TestApp) -> None:
    plugin = app.host.plugins["shelf"]
    token = plugin.tokens.issue_user_token("u1", ("student",))
    assert plugin.authenticate(token).user_id == "u1"
    assert plugin.knows("notes") and plugin.knows("shelf") and not plugin.knows("nowhere")


async def test_slot_builds_once_per_runtime_and_is_closed_at_shut_down(settings: Settings) -> None:
    Counter.instances.clear()
    async with running_app([notes, shelf], settings) as app:
        for _ in range(3):
            assert (await app.gql("shelf", "{ capacity }"))["data"] == {"capacity": 3}
        assert len(Counter.instances) == 1 and Counter.instances[0].count == 3
        assert not Counter.instances[0].closed
        runtime = app.host.plugins["shelf"]
    assert Counter.instances[0].closed
    # After shut-down the state is gone: the next use builds a new one.
    assert runtime.slot(Counter) is not Counter.instances[0]


# --- a template plugin end to end -------------------------------------------------------------


async def test_shelve_checks_the_note_in_the_other_plugin_and_held_ids_reads_it(app: TestApp) -> None:
    token = app.token("u1")
    note = (await app.gql("notes", ADD, {"text": "hello"}, token=token))["data"]["addNote"]
    with app.host.observe_calls() as calls:
        body = await app.gql("shelf", SHELVE, {"id": note["id"]}, token=token)
    assert body["data"]["shelve"]["noteId"] == note["id"]
    assert [(c.caller, c.target, c.operation) for c in calls] == [("shelf", "notes", "Note")]
    other = await app.gql("shelf", SHELVE, {"id": note["id"]}, token=app.token("u2"))
    assert error_codes(other) == ["NOT_FOUND"]
    assert await HELD_NOTE_IDS(app.host.plugins["shelf"]) == [note["id"]]


async def test_the_other_plugin_down_is_upstream_unavailable_and_nothing_is_written(app: TestApp) -> None:
    token = app.token("u1")
    note = (await app.gql("notes", ADD, {"text": "hello"}, token=token))["data"]["addNote"]
    with app.host.override_transport("notes", FailingTransport(None)):
        body = await app.gql("shelf", SHELVE, {"id": note["id"]}, token=token)
    assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert await HELD_NOTE_IDS(app.host.plugins["shelf"]) == []


async def test_settings_reach_the_plugins_config(settings: Settings) -> None:
    limited = settings.with_overrides(plugins={"shelf": {"capacity": "1"}})
    async with running_app([notes, shelf], limited) as app:
        token = app.token("u1")
        ids = [(await app.gql("notes", ADD, {"text": t}, token=token))["data"]["addNote"]["id"] for t in "ab"]
        assert "errors" not in await app.gql("shelf", SHELVE, {"id": ids[0]}, token=token)
        assert error_codes(await app.gql("shelf", SHELVE, {"id": ids[1]}, token=token)) == ["CONFLICT"]


# --- REST errors, app-wide --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"refuse": True}, 403, "FORBIDDEN"),
        ([1, 2], 400, "BAD_USER_INPUT"),
        ({"crash": True}, 500, "INTERNAL"),
    ],
)
async def test_a_rest_route_just_raises_and_the_app_answers(
    app: TestApp, body: object, status: int, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = await app.client.post("/api/shelf/echo", json=body)
    assert response.status_code == status
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == [code]
    assert "secret internal detail" not in response.text
    if status == 500:
        assert any("secret internal detail" in str(r.exc_info) for r in caplog.records)


async def test_malformed_json_on_a_rest_route_is_400(app: TestApp) -> None:
    response = await app.client.post("/api/shelf/echo", content=b"{nope")
    assert response.status_code == 400 and response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    ok = await app.client.post("/api/shelf/echo", json={"a": 1})
    assert ok.status_code == 200 and ok.json() == {"echo": {"a": 1}, "plugin": "shelf"}


async def test_unknown_paths_and_methods_keep_their_status(app: TestApp) -> None:
    assert (await app.client.get("/api/shelf/echo")).status_code == 405
    assert (await app.client.post("/api/shelf/nowhere")).status_code == 404


def test_rest_endpoint_is_a_harmless_pass_through() -> None:
    from byway.web import rest_endpoint

    async def endpoint(request: object) -> None:
        return None

    assert rest_endpoint(endpoint) is endpoint  # type: ignore[arg-type]


# --- typed plugin settings --------------------------------------------------------------------


def test_load_plugin_config_coerces_by_real_types(settings: Settings) -> None:
    import byway

    configured = settings.with_overrides(plugins={"shelf": {"capacity": "7", "label": "top", "mode": "lax"}})
    app = create_app(configured, [notes, shelf])
    config = byway.load_plugin_config(ShelfConfig, app.state.host.plugins["shelf"])
    assert config == ShelfConfig(capacity=7, label="top", mode="lax")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"capacity": "many"}, r"plugin 'shelf' setting 'capacity' .*BYWAY_SHELF_CAPACITY.* must be a number"),
        ({"mode": "loose"}, r"plugin 'shelf' setting 'mode' .* must be one of 'strict', 'lax'"),
        ({"colour": "red"}, r"plugin 'shelf': unknown setting\(s\) colour \(known: capacity, label, mode\)"),
        ({"capacity": True}, r"'capacity' .* must be a number"),
    ],
)
def test_load_plugin_config_names_plugin_and_key(settings: Settings, raw: dict[str, object], message: str) -> None:
    import byway

    app = create_app(settings.with_overrides(plugins={"shelf": raw}), [notes, shelf])
    with pytest.raises(ConfigurationError, match=message):
        byway.load_plugin_config(ShelfConfig, app.state.host.plugins["shelf"])


def test_load_plugin_config_reads_the_environment_given_to_load_settings(tmp_path: Path) -> None:
    import byway
    from byway.settings import load_settings

    settings = load_settings({"BYWAY_SHELF_CAPACITY": "9", "BYWAY_DATA_DIR": str(tmp_path)})
    app = create_app(settings, [notes, shelf])
    assert byway.load_plugin_config(ShelfConfig, app.state.host.plugins["shelf"]).capacity == 9


# --- with-only helpers ------------------------------------------------------------------------


async def test_override_transport_and_observe_calls_refuse_a_bare_call(app: TestApp) -> None:
    calls = app.host.observe_calls()
    with pytest.raises(TypeError, match=r"observe_calls\(\) is a context manager"):
        len(calls)
    with pytest.raises(TypeError, match="context manager"):
        list(calls)
    del calls
    with pytest.raises(TypeError, match=r"observe_call_results\(\) is a context manager"):
        list(app.host.observe_call_results())
    with pytest.warns(RuntimeWarning, match=r"override_transport\('notes', \.\.\.\) was called but never entered"):
        app.host.override_transport("notes", FailingTransport(None))
        gc.collect()
    # Nothing was overridden: the call goes through.
    body = await app.gql("notes", ADD, {"text": "still works"}, token=app.token("u1"))
    assert "errors" not in body
