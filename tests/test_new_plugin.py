"""``byway new-plugin``: a generated plugin installs with ``pip install -e`` and works untouched.

The distribution is installed into a throw-away virtual environment layered over the test one
(so the test environment never gains an entry point whose files are then deleted). In it, with
no edits: the plugin's own tests pass, ruff and ``mypy --strict`` are clean, ``byway plugins``
lists it, ``byway migrate`` creates its database, ``makemigrations`` finds nothing to change,
``byway relations`` and ``byway audit`` show its relation, and a served API and playground answer.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from byway.cli import build_cli
from byway.host import Host
from byway.new_plugin import NewPluginError, PluginNames, write_plugin
from byway.settings import Settings
from byway.testing import free_port
from tests.conftest import REPO

pytest.importorskip("byway_teach_internal")


def test_names_follow_the_plugin_name() -> None:
    values = PluginNames("course-notes").values
    assert (values["dist"], values["package"], values["table"]) == (
        "byway-course-notes",
        "byway_course_notes",
        "course_notes_entries",
    )
    assert (values["Type"], values["entries"]) == ("CourseNotesEntry", "courseNotesEntries")


@pytest.mark.parametrize("name", ["Reviews", "2fast", "bad_name", "a--b", ""])
def test_a_bad_name_is_refused_and_nothing_is_written(tmp_path: Path, name: str) -> None:
    with pytest.raises(NewPluginError, match="invalid plugin name"):
        write_plugin(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_directory_is_never_overwritten(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "reviews").mkdir()
    (tmp_path / "reviews" / "mine.txt").write_text("keep")
    result = CliRunner().invoke(
        build_cli(Host(settings, [], load_entrypoints=False)), ["new-plugin", "reviews", "--dir", str(tmp_path)]
    )
    assert result.exit_code == 1 and "already exists" in result.output
    assert [p.name for p in (tmp_path / "reviews").iterdir()] == ["mine.txt"]


def _overlay_venv(root: Path) -> Path:
    """A venv whose site-packages also loads the test venv's (and its editable installs); its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    parent = sysconfig.get_paths()["purelib"]
    Path(purelib, "_byway_test_parent.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    return python


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 120) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_a_generated_plugin_works_untouched_after_pip_install_e(tmp_path: Path) -> None:
    runner = CliRunner()
    cli = build_cli(Host(Settings(data_dir=tmp_path / "unused"), [], load_entrypoints=False))
    result = runner.invoke(cli, ["new-plugin", "reviews", "--dir", str(tmp_path / "src")])
    assert result.exit_code == 0, result.output
    plugin_dir = tmp_path / "src" / "reviews"
    assert (plugin_dir / "byway_reviews" / "plugin.py").is_file()

    python = _overlay_venv(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BYWAY_", "PYTHONPATH", "VIRTUAL_ENV"))}
    env |= {"BYWAY_DATA_DIR": str(tmp_path / "data"), "MYPYPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    work = tmp_path / "work"  # no config/byway.toml here: the defaults
    work.mkdir()
    _run([str(python), "-m", "pip", "install", "-q", "--no-deps", "-e", str(plugin_dir)], work, env, timeout=300)

    # Its own tests, lint and strict types, untouched.
    assert " passed" in _run([str(python), "-m", "pytest", "-q"], plugin_dir, env)
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or "ruff"
    _run([ruff, "check", "."], plugin_dir, env)
    assert "Success" in _run([str(python), "-m", "mypy"], plugin_dir, env)

    byway = [str(python), "-m", "byway"]
    listed = _run([*byway, "plugins"], work, env)
    assert any(line.split()[:3] == ["reviews", "0.1.0", "byway-reviews"] for line in listed.splitlines()), listed
    assert "reviews: at " in _run([*byway, "migrate", "--plugin", "reviews"], work, env)
    with sqlite3.connect(tmp_path / "data" / "reviews.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"reviews_entries", "alembic_version_reviews"} <= tables
    before = sorted((plugin_dir / "byway_reviews" / "migrations").iterdir())
    assert "no changes" in _run([*byway, "makemigrations", "reviews", "-m", "nothing"], work, env)
    assert sorted((plugin_dir / "byway_reviews" / "migrations").iterdir()) == before
    relation = "reviews.ReviewsEntry.courseId -> teach-internal.Course"
    assert relation in _run([*byway, "relations"], work, env)
    assert f"{relation}: 0 checked, 0 dangling" in _run([*byway, "audit"], work, env)

    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([*byway, "serve", "--port", str(port)], cwd=work, env=env, stdout=log, stderr=log)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"byway serve did not start:\n{(tmp_path / 'serve.log').read_text()}")
            time.sleep(0.2)
        playground = httpx.get(f"{base}/api/reviews/graphql")
        assert playground.status_code == 200 and "text/html" in playground.headers["content-type"]
        answer = httpx.post(f"{base}/api/reviews/graphql", json={"query": '{ reviewsEntries(courseId: "c1") { id } }'})
        assert answer.status_code == 200 and answer.json() == {"data": {"reviewsEntries": []}}
        refused = httpx.post(
            f"{base}/api/reviews/graphql",
            json={"query": 'mutation { addReviewsEntry(courseId: "c1", text: "hi") { id } }'},
        )
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
