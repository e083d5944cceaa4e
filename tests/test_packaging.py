"""The ``byway`` distribution: built without setuptools warnings, with its data, and lean dependencies."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

from tests.conftest import REPO


def test_the_wheel_builds_without_warnings_and_carries_its_data(tmp_path: Path) -> None:
    # Built from a copy: setuptools writes build/ and *.egg-info next to the sources.
    source = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for folder in ("byway", "migrations"):
        shutil.copytree(REPO / folder, source / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    warnings = ("absent from the `packages` configuration", "SetuptoolsDeprecationWarning", "as data is deprecated")
    assert [w for w in warnings if w in output] == []
    (wheel,) = tmp_path.glob("byway-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
    assert "byway/static/graphiql/graphiql.min.js" in names
    assert "byway/new_plugin/template/package/plugin.py.tmpl" in names
    assert "byway/new_plugin/template/tests/conftest.py.tmpl" in names
    assert "byway/_migrations/env.py" in names
    requires = [r.split(";")[0].strip() for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r]
    names_only = {r.split("[")[0].split(">")[0].split("=")[0].strip().lower() for r in requires}
    assert "stripe" not in names_only  # ecommerce's own dependency
    assert "psycopg" in names_only and "asyncpg" not in names_only and "psycopg2" not in names_only
