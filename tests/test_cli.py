"""The ``byway`` command line, run with click's test runner on a host of test-only plugins."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from types import ModuleType

import click
import pytest
from click.testing import CliRunner, Result

import byway
import byway.cli
import tests.plugins.kv as kv
import tests.plugins.notes as notes
import tests.plugins.relay as relay
from byway.cli import build_cli
from byway.declarations import PluginInfo, Relation
from byway.host import Host
from byway.settings import Settings

NOTES_HEAD = "5b7940405571"


def invoke(host: Host, *args: str) -> Result:
    return CliRunner().invoke(build_cli(host), list(args), catch_exceptions=False)


@pytest.fixture
def host(settings: Settings) -> Host:
    return Host(settings, [notes, kv, relay], load_entrypoints=False)


def notes_rows(settings: Settings) -> list[tuple[str, str]]:
    with sqlite3.connect(settings.data_dir / "notes.db") as conn:
        return list(conn.execute("SELECT author_id, text FROM notes"))


def test_plugins_table(host: Host, settings: Settings) -> None:
    result = invoke(host, "plugins")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "DISTRIBUTION", "MOUNT", "DATABASE", "TRANSPORT"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == {"notes", "kv", "relay"}
    assert rows["notes"] == [
        "notes",
        "-",
        "<in-process:",
        "tests.plugins.notes>",
        "/api/notes/graphql",
        f"sqlite+aiosqlite:///{(settings.data_dir / 'notes.db').resolve()}",
        "inprocess",
    ]
    assert rows["relay"][-2:] == ["-", "inprocess"]  # no database


def test_plugins_table_hides_database_passwords_and_shows_http_transport(settings: Settings) -> None:
    configured = settings.with_overrides(
        database_urls={"notes": "postgresql+psycopg://byway:s3cr3t-pw@db.internal:5432/notes"},
        transport="http",
        self_url="http://127.0.0.1:8123",
    )
    result = invoke(Host(configured, [notes], load_entrypoints=False), "plugins")
    assert result.exit_code == 0
    assert "s3cr3t-pw" not in result.output
    assert "postgresql+psycopg://byway:***@db.internal:5432/notes" in result.output
    assert result.output.rstrip().endswith("http://127.0.0.1:8123")


def test_migrate(host: Host, settings: Settings) -> None:
    result = invoke(host, "migrate")
    assert result.exit_code == 0
    assert f"notes: at {NOTES_HEAD}" in result.output
    assert re.search(r"^kv: at \w+$", result.output, re.MULTILINE)
    assert "relay" not in result.output  # no database, nothing to migrate
    assert notes_rows(settings) == []


def test_migrate_one_plugin(host: Host, settings: Settings) -> None:
    result = invoke(host, "migrate", "--plugin", "notes")
    assert result.exit_code == 0
    assert result.output.strip() == f"notes: at {NOTES_HEAD}"
    with sqlite3.connect(settings.data_dir / "kv.db") as conn:
        assert list(conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")) == []


def test_migrate_unknown_plugin_fails(host: Host) -> None:
    result = invoke(host, "migrate", "--plugin", "nope")
    assert result.exit_code == 1
    assert "no plugin named 'nope'" in result.output


def test_makemigrations(settings: Settings, notes_copy: ModuleType) -> None:
    host = Host(settings, [notes_copy], load_entrypoints=False)
    result = invoke(host, "makemigrations", "notes", "-m", "add pinned")
    assert result.exit_code == 0, result.output
    written = Path(result.output.splitlines()[-1].removeprefix("wrote "))
    assert written.parent == host.plugins["notes"].migrations_dir
    assert "add_column" in written.read_text() and "pinned" in written.read_text()
    # The models now match the history: nothing to write.
    revisions = sorted(written.parent.glob("*.py"))
    again = invoke(host, "makemigrations", "notes", "-m", "nothing new")
    assert again.exit_code == 0 and "no changes in the models of notes: nothing written" in again.output
    assert sorted(written.parent.glob("*.py")) == revisions
    empty = invoke(host, "makemigrations", "notes", "-m", "data fix", "--empty")
    assert empty.exit_code == 0
    text = Path(empty.output.splitlines()[-1].removeprefix("wrote ")).read_text()
    assert "add_column" not in text and "pass" in text


def test_makemigrations_refusals(host: Host) -> None:
    assert invoke(host, "makemigrations", "relay", "-m", "x").exit_code == 1  # no models
    unknown = invoke(host, "makemigrations", "nope", "-m", "x")
    assert unknown.exit_code == 1 and "'nope' is not loaded" in unknown.output
    missing_message = invoke(host, "makemigrations", "notes")
    assert missing_message.exit_code == 2 and "--message" in missing_message.output


def test_demo_is_idempotent(host: Host, settings: Settings) -> None:
    for _ in range(2):
        result = invoke(host, "demo")
        assert result.exit_code == 0
        assert result.output == "notes: one demo note by author 'demo'\n"
    assert notes_rows(settings) == [("demo", "hello from the demo")]


def test_plugin_command(host: Host) -> None:
    assert "notes-count" in build_cli(host).commands
    assert invoke(host, "notes-count").output == "notes: 0\n"
    invoke(host, "demo")
    assert invoke(host, "notes-count").output == "notes: 1\n"


def test_relations_command(settings: Settings) -> None:
    class Holder:
        @byway.hookimpl
        def byway_register_plugin(self) -> PluginInfo:
            return PluginInfo(name="holder")

        @byway.hookimpl
        def byway_register_relations(self) -> list[Relation]:
            return [Relation("holder.Pin.noteId", "notes.Note", on_delete="cascade", enforced_by=("holder.pin",))]

    result = invoke(Host(settings, [notes, Holder()], load_entrypoints=False), "relations")
    assert result.output == (
        "holder.Pin.noteId -> notes.Note  [on write: must exist; on delete: cascade]\n    enforced by: holder.pin\n"
    )


def test_every_command_has_help(host: Host) -> None:
    cli = build_cli(host)
    top = invoke(host, "--help")
    assert top.exit_code == 0
    for name, command in cli.commands.items():
        assert name in top.output
        for flag in ("--help", "-h"):
            result = invoke(host, name, flag)
            assert result.exit_code == 0, name
            assert result.output.startswith(f"Usage: cli {name}")
            summary = (command.help or "").splitlines()[0]
            assert summary and summary in " ".join(result.output.split()), name
    assert {"serve", "migrate", "makemigrations", "plugins", "relations", "demo", "notes-count"} <= set(cli.commands)
    serve_help = invoke(host, "serve", "--help").output
    for option in ("--host", "--port", "--workers", "--reload"):
        assert option in serve_help


def test_version(host: Host) -> None:
    assert invoke(host, "--version").output.strip() == f"byway, version {byway.__version__}"


def test_main_reports_configuration_errors(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BYWAY_ENV", "production")
    monkeypatch.delenv("BYWAY_JWT_SECRET", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        byway.cli.main(["plugins"])
    assert exit_info.value.code == 1
    assert "refuses the development JWT secret" in capsys.readouterr().err


def test_run_with_plugin_refuses_an_unknown_plugin(host: Host) -> None:
    cli = build_cli(host)

    @cli.command("probe")
    def probe() -> None:
        byway.cli.run_with_plugin("ghost", lambda runtime: _never())

    result = CliRunner().invoke(cli, ["probe"])
    assert result.exit_code == 1 and "'ghost' is not loaded" in result.output
    assert isinstance(cli, click.Group)


async def _never() -> None:
    raise AssertionError("not reached")


def test_serve_demo_prints_links_to_the_port_it_serves(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``byway serve --demo --port 8123`` seeds the demo with this server's address (the mailbox
    link of the notifications plugin was printed with port 8000 whatever the port)."""
    import uvicorn

    from byway.declarations import DemoStep
    from byway.runtime import PluginRuntime

    class Linker:
        @byway.hookimpl
        def byway_register_plugin(self) -> PluginInfo:
            return PluginInfo(name="linker")

        @byway.hookimpl
        def byway_register_demo(self) -> DemoStep:
            async def run(plugin: PluginRuntime, facts: dict[str, object]) -> list[str]:
                return [f"linker: open {plugin.settings.public_url}/here"]

            return DemoStep(order=1, run=run)

    served: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: served.update(kwargs))
    monkeypatch.setattr(byway.cli, "setup_logging", lambda *args, **kwargs: None)
    for name in ("BYWAY_SELF_URL", "BYWAY_AUTO_MIGRATE"):  # recorded, so serve's changes are undone
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)
    result = invoke(Host(settings, [Linker()], load_entrypoints=False), "serve", "--demo", "--port", "8123")
    assert result.exit_code == 0, result.output
    assert "linker: open http://127.0.0.1:8123/here" in result.output
    assert served["port"] == 8123
