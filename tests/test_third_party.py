"""A third-party plugin, installed with pip, is discovered through its entry point, migrated and mounted.

``examples/byway-hello`` is installed with a real ``pip install`` into a temporary directory (so its
``.dist-info`` with the ``byway.plugins`` entry point is written exactly as for any user), then
fresh Python processes with that directory on ``PYTHONPATH`` run the ``byway`` command line and
the app with entry-point discovery on. Other installed Byway plugins are disabled by
configuration, so the outcome does not depend on what else is installed.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "byway-hello"

APP_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    from byway.app import create_app
    from byway.settings import load_settings
    from byway.testing import serve_app

    async def main():
        app = create_app(load_settings())  # entry points are loaded: no plugins are passed
        host = app.state.host
        loaded = host.plugins["hello"].loaded
        out = {"plugins": sorted(host.plugins), "distribution": loaded.distribution, "version": loaded.version}
        out["module"] = loaded.obj.__file__
        async with serve_app(app) as client:
            token = host.tokens.issue_user_token("u1", ["student"])
            auth = {"Authorization": "Bearer " + token}
            out["ready"] = (await client.get("/readyz")).json()
            out["typename"] = (await client.post("/api/hello/graphql", json={"query": "{ __typename }"})).json()
            hello = {"query": "{ hello(name: \\"pip\\") }"}
            out["hello"] = (await client.post("/api/hello/graphql", json=hello)).json()
            greet = {"query": "mutation { greet(name: \\"Ada\\") { message authorId } }"}
            out["greet"] = (await client.post("/api/hello/graphql", json=greet, headers=auth)).json()
            playground = await client.get("/api/hello/graphql")
            out["playground"] = [playground.status_code, playground.headers["content-type"]]
            out["stats"] = (await client.get("/api/hello/stats")).json()
        print(json.dumps(out))

    asyncio.run(main())
    """
)


def _build_isolation_flag() -> list[str]:
    """Build without fetching setuptools when the installed one can build wheels by itself."""
    try:
        version = tuple(int(p) for p in importlib.metadata.version("setuptools").split(".")[:2])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return []
    if version >= (70, 1) or importlib.util.find_spec("wheel") is not None:
        return ["--no-build-isolation"]
    return []


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip install --no-deps --target <dir> examples/byway-hello``; returns the target directory."""
    target = tmp_path_factory.mktemp("site")
    # pip builds in the source tree: a copy keeps examples/ free of build/ and *.egg-info.
    source = tmp_path_factory.mktemp("src") / "byway-hello"
    ignore = shutil.ignore_patterns("build", "*.egg-info", "__pycache__", ".pytest_cache")
    shutil.copytree(EXAMPLE, source, ignore=ignore)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--no-input",
        "--disable-pip-version-check",
    ]
    command += [*_build_isolation_flag(), "--target", str(target), str(source)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=source)
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def run_python(installed: Path, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    others = [ep.name for ep in importlib.metadata.entry_points(group="byway.plugins") if ep.name != "hello"]
    env = {
        **os.environ,
        "PYTHONPATH": str(installed),
        "BYWAY_DATA_DIR": str(data_dir),
        "BYWAY_DISABLED_PLUGINS": ",".join(others),
        "BYWAY_AUTO_MIGRATE": "false",
    }
    env.pop("BYWAY_CONFIG", None)
    for key in [k for k in env if k.startswith("BYWAY_DATABASE_URL")]:
        del env[key]
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=60, cwd=data_dir.parent, env=env
    )


def byway_cli(installed: Path, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_python(installed, data_dir, "-c", "import sys; from byway.cli import main; main(sys.argv[1:])", *args)


def test_pip_installed_plugin_is_discovered_migrated_and_mounted(installed: Path, tmp_path: Path) -> None:
    dist_info = installed / "byway_hello-0.1.0.dist-info"
    entry_points = (dist_info / "entry_points.txt").read_text()
    assert "[byway.plugins]" in entry_points and "hello = byway_hello.plugin" in entry_points
    assert (installed / "byway_hello" / "schema.graphql").is_file()
    assert list((installed / "byway_hello" / "migrations").glob("*_create_greetings.py"))

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    listed = byway_cli(installed, data_dir, "plugins")
    assert listed.returncode == 0, listed.stderr
    hello_row = next(line.split() for line in listed.stdout.splitlines() if line.startswith("hello "))
    assert hello_row[:4] == ["hello", "0.1.0", "byway-hello", "/api/hello/graphql"]

    migrated = byway_cli(installed, data_dir, "migrate", "--plugin", "hello")
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.startswith("hello: at ")
    assert (data_dir / "hello.db").is_file()

    served = run_python(installed, data_dir, "-c", APP_SCRIPT)
    assert served.returncode == 0, served.stderr
    out = json.loads(served.stdout.strip().splitlines()[-1])
    assert out["plugins"] == ["hello"]
    assert (out["distribution"], out["version"]) == ("byway-hello", "0.1.0")
    assert Path(out["module"]).is_relative_to(installed)  # the pip-installed copy was loaded
    assert out["ready"]["status"] == "ready" and out["ready"]["plugins"]["hello"]["ready"] is True
    assert out["typename"] == {"data": {"__typename": "Query"}}
    assert out["hello"] == {"data": {"hello": "Hello, pip!"}}
    assert out["greet"] == {"data": {"greet": {"message": "Hello, Ada!", "authorId": "u1"}}}
    assert out["playground"][0] == 200 and out["playground"][1].startswith("text/html")
    assert out["stats"] == {"greetings": 1}
