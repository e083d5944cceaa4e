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


#: Each first-party plugin package, whose every module (but its Alembic migrations) must import on
#: its own, first: an import cycle shows only when a module of the cycle is the first one imported.
PLUGIN_PACKAGES = sorted(path.parent for path in (REPO / "plugins").glob("*/byway_*/__init__.py"))
EACH_MODULE_FIRST = """
import importlib, pkgutil, sys
package = sys.argv[1]
found = pkgutil.walk_packages(importlib.import_module(package).__path__, prefix=package + ".")
# Alembic's env.py runs migrations when imported: migrations are Alembic's to load.
names = [package] + [m.name for m in found if ".migrations" not in m.name]
failed = []
for name in names:
    for loaded in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append(f"{name}: {type(exc).__name__}: {exc}")
print("\\n".join(failed))
print(len(names), "modules")
"""


def test_every_module_of_every_plugin_imports_first() -> None:
    """``import byway_ecommerce.webhook`` in a fresh interpreter used to fail (webhook → workers →
    dev_deliveries → webhook); so did ``settlement`` (→ workers → reconcile → settlement)."""
    assert [p.name for p in PLUGIN_PACKAGES] == [
        "byway_authentication",
        "byway_ecommerce",
        "byway_notifications",
        "byway_storefront",
        "byway_students_internal",
        "byway_teach",
        "byway_teach_internal",
    ]
    for package in PLUGIN_PACKAGES:
        result = subprocess.run(
            [sys.executable, "-c", EACH_MODULE_FIRST, package.name], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        lines = result.stdout.strip().splitlines()
        assert lines[:-1] == [], f"{package.name}: {lines[:-1]}"
        assert int(lines[-1].split()[0]) > 1
