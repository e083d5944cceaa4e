"""Shared fixtures of the host's tests.

The ``byway`` pytest plugin (``byway.testing``) provides ``byway_settings`` and ``database_url``.
Tests load the test-only plugins of ``tests/plugins`` directly and never the installed entry
points; the tests about entry points fake the group with :func:`fake_entry_points`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

import tests.plugins.notes as notes
from byway import plugins as byway_plugins
from byway.settings import Settings
from byway.testing import POSTGRES_ADMIN_URL, drop_postgres_databases, postgres_available

REPO = Path(__file__).resolve().parent.parent

#: ``{distribution name: {entry-point name: "module"}}``
Dists = Mapping[str, Mapping[str, str]]


def write_distributions(root: Path, dists: Dists, version: str = "1.2.3") -> None:
    """Write installed-distribution metadata (``*.dist-info``) with ``byway.plugins`` entry points."""
    for dist, entry_points in dists.items():
        info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        lines = ["[byway.plugins]", *(f"{name} = {target}" for name, target in entry_points.items())]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture
def fake_entry_points(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[Dists], None]:
    """Make the ``byway.plugins`` group contain exactly the given distributions' entry points."""

    def install(dists: Dists) -> None:
        root = tmp_path / "site"
        write_distributions(root, dists)

        def entry_points(**params: Any) -> importlib.metadata.EntryPoints:
            found = [
                ep
                for dist in importlib.metadata.distributions(path=[str(root)])
                for ep in dist.entry_points
                if ep.group == params.get("group")
            ]
            return importlib.metadata.EntryPoints(found)

        monkeypatch.setattr(byway_plugins.importlib.metadata, "entry_points", entry_points)

    return install


@pytest.fixture
def no_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything reads the installed entry points."""

    def refuse(**params: Any) -> Any:
        raise AssertionError("installed entry points must not be loaded here")

    monkeypatch.setattr(byway_plugins.importlib.metadata, "entry_points", refuse)


@pytest.fixture
def settings(byway_settings: Settings) -> Settings:
    """Dev settings with a temporary data directory (alias of ``byway_settings``)."""
    return byway_settings


@pytest.fixture
def notes_copy(tmp_path: Path) -> Iterator[ModuleType]:
    """A copy of the notes plugin in a temporary directory whose model has gained two columns."""
    package = tmp_path / "notes_copy"
    shutil.copytree(Path(notes.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    source = (package / "__init__.py").read_text()
    changed = source.replace(
        '    Column("text", String(500), nullable=False),\n',
        '    Column("text", String(500), nullable=False),\n    Column("pinned", Integer, nullable=True),\n'
        '    Column("edited_at", UTCDateTime(), nullable=True),\n',
    ).replace("import byway\n", "import byway\nfrom byway.db import UTCDateTime\n")
    assert changed != source
    (package / "__init__.py").write_text(changed)
    name = f"notes_copy_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, package / "__init__.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    try:
        yield module
    finally:
        del sys.modules[name]


@pytest.fixture(scope="module")
def postgres_up() -> bool:
    """Whether the test PostgreSQL server answers (checked once per module)."""
    return postgres_available()


@pytest.fixture
async def postgres(postgres_up: bool) -> AsyncIterator[tuple[str, AsyncEngine]]:
    """A URL for a new PostgreSQL database (dropped afterwards) and an admin engine to watch it."""
    if not postgres_up:
        if os.environ.get("BYWAY_TEST_POSTGRES") == "required":
            pytest.fail("PostgreSQL is required (BYWAY_TEST_POSTGRES=required) but not reachable")
        pytest.skip("PostgreSQL not reachable")
    prefix = f"byway_t{uuid.uuid4().hex[:10]}_"
    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{prefix}reader", admin
    finally:
        await admin.dispose()
        await drop_postgres_databases(prefix)
