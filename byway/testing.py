"""Helpers and pytest fixtures for testing Byway and its plugins (a ``pytest11`` plugin).

Fixtures: ``byway_settings`` (dev settings with a temporary data directory) and
``database_url`` (parametrised: ``sqlite`` always, ``postgres`` when reachable; set
``BYWAY_TEST_POSTGRES=required`` to fail instead of skip when it is not).

Helpers: :func:`serve_app` (lifespan + in-memory httpx client), :func:`live_server` (real uvicorn
on a free port), :func:`graphql` (POST an operation), :class:`FailingTransport` (fault injection
with ``host.override_transport``) and :func:`user_token`.

Two ways to test a plugin: beside the real first-party plugins, seeded through their APIs
(:class:`World`, :func:`open_world`, the ``byway_world`` fixture; see :mod:`byway.testing_world`),
or on its own with test doubles and callers named by role (:class:`Callers`, :data:`PEOPLE`,
:data:`WHO`, :class:`FakeTeach`, :class:`FakeAuthentication`; see :mod:`byway.testing_callers`).
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette

from byway.client import TransientError
from byway.host import Host
from byway.settings import Settings

TEST_JWT_SECRET = "byway-test-secret-0123456789abcdef0123456789"
POSTGRES_ADMIN_URL = os.environ.get("BYWAY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Dev settings for tests: a private data directory, a test secret, fast client retries."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "jwt_secret": TEST_JWT_SECRET,
        "client_backoff_seconds": 0.01,
        "debug": False,
    }
    values.update(overrides)
    return Settings(**values)


def host_of(app: Starlette) -> Host:
    """The :class:`~byway.host.Host` behind an app built by ``create_app``."""
    host: Host = app.state.host
    return host


@asynccontextmanager
async def serve_app(app: Starlette, base_url: str = "http://testserver") -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and yield an httpx client talking to it in memory."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def live_server(app: Starlette, port: int | None = None) -> AsyncIterator[str]:
    """Serve the app with uvicorn on 127.0.0.1 (lifespan included); yields its base URL."""
    import uvicorn

    port = port or free_port()
    # proxy_headers off, as in `byway serve`: X-Forwarded-For is Byway's to judge (BYWAY_TRUSTED_PROXIES).
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", proxy_headers=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if not server.started:
            if task.done():
                task.result()
            raise RuntimeError("uvicorn did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def graphql(
    client: httpx.AsyncClient,
    plugin: str,
    query: str,
    variables: Mapping[str, Any] | None = None,
    *,
    token: str | None = None,
) -> dict[str, Any]:
    """POST an operation to ``/api/<plugin>/graphql``; returns the JSON body plus ``_status``."""
    # The GraphQL-over-HTTP media type: request failures keep their 400 (under plain
    # application/json they would be 200 with ``errors``).
    headers = {"Accept": "application/graphql-response+json, application/json;q=0.9"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = await client.post(
        f"/api/{plugin}/graphql", json={"query": query, "variables": dict(variables or {})}, headers=headers
    )
    body: dict[str, Any] = response.json()
    body["_status"] = response.status_code
    return body


def error_codes(body: Mapping[str, Any]) -> list[str]:
    """The ``extensions.code`` of every error in a response body."""
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


def user_token(host: Host, user_id: str, roles: tuple[str, ...] = ("student",)) -> str:
    """A valid user token signed by the host (for tests that need a caller without registering)."""
    return host.tokens.issue_user_token(user_id, roles)


class FailingTransport:
    """A transport that fails transiently ``failures`` times (all calls when None), then delegates.

    Use with ``host.override_transport(plugin, FailingTransport(host.transport_for(plugin)))`` to
    simulate a plugin that is down; ``attempts`` counts the calls it saw.
    """

    name = "http"

    def __init__(self, inner: Any, failures: int | None = None) -> None:
        self.inner = inner
        self.failures = failures
        self.attempts = 0

    async def send(self, *args: Any) -> tuple[int, dict[str, Any]]:
        """Fail while failures remain, else pass the call to the wrapped transport."""
        self.attempts += 1
        if self.failures is None or self.attempts <= self.failures:
            raise TransientError("injected failure")
        result: tuple[int, dict[str, Any]] = await self.inner.send(*args)
        return result


class TestApp:
    """A running app for tests: its host, an httpx client and a :meth:`gql` shortcut."""

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self, app: Starlette, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client
        self.host = host_of(app)

    async def gql(
        self, plugin: str, query: str, variables: Mapping[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """POST an operation to a plugin (see :func:`graphql`)."""
        return await graphql(self.client, plugin, query, variables, token=token)

    def token(self, user_id: str, roles: tuple[str, ...] = ("student",)) -> str:
        """A valid user token (see :func:`user_token`)."""
        return user_token(self.host, user_id, roles)


def default_test_transport() -> str:
    """``BYWAY_TEST_TRANSPORT`` (``inprocess`` unless set): CI runs the suite under ``http`` too."""
    return os.environ.get("BYWAY_TEST_TRANSPORT", "inprocess")


@asynccontextmanager
async def running_app(
    plugins: list[Any], settings: Settings, *, transport: str | None = None
) -> AsyncIterator[TestApp]:
    """Build and start an app with ``plugins``; yield a :class:`TestApp`.

    With ``transport="http"`` (or ``BYWAY_TEST_TRANSPORT=http``) the app is served by a real
    uvicorn on a free port, every cross-plugin call goes over HTTP to it, and the test client
    talks to it over the network too. Otherwise it runs in memory with in-process calls.
    """
    from byway.app import create_app

    transport = transport or default_test_transport()
    if transport == "http":
        port = free_port()
        settings = settings.with_overrides(transport="http", self_url=f"http://127.0.0.1:{port}")
        app = create_app(settings, plugins)
        async with live_server(app, port) as base_url, httpx.AsyncClient(base_url=base_url) as client:
            yield TestApp(app, client)
    else:
        app = create_app(settings.with_overrides(transport="inprocess"), plugins)
        async with serve_app(app) as client:
            yield TestApp(app, client)


#: Debian's Chromium, which browser tests drive with Playwright (never a downloaded browser);
#: ``BYWAY_TEST_CHROMIUM`` names another executable.
CHROMIUM = Path("/usr/bin/chromium")


def chromium_path() -> Path:
    """The Chromium executable browser tests launch: ``BYWAY_TEST_CHROMIUM`` or :data:`CHROMIUM`."""
    configured = os.environ.get("BYWAY_TEST_CHROMIUM", "").strip()
    return Path(configured) if configured else CHROMIUM


#: Flags for headless Chromium on a machine with no outside network.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def require_browser() -> Path:
    """The Chromium to launch (:func:`chromium_path`); skips the test when it or Playwright is missing.

    With ``BYWAY_TEST_BROWSER=required`` (as in CI) a missing browser fails the test instead.
    """
    required = os.environ.get("BYWAY_TEST_BROWSER", "").lower() == "required"
    chromium = chromium_path()
    if not chromium.is_file() or not os.access(chromium, os.X_OK):
        hint = (
            f"browser tests need Chromium at {chromium} (Debian: apt-get install chromium), "
            "or BYWAY_TEST_CHROMIUM=/path/to/chromium"
        )
        if required:
            pytest.fail(f"{hint}; BYWAY_TEST_BROWSER=required makes its absence a failure")
        pytest.skip(f"{hint} (set BYWAY_TEST_BROWSER=required to fail instead of skipping)")
    if required:
        import playwright.async_api  # noqa: F401  (required: an ImportError fails the test)
    else:
        pytest.importorskip("playwright.async_api", reason="browser tests need playwright (pip install playwright)")
    return chromium


def postgres_available() -> bool:
    """True when the test PostgreSQL server answers."""

    async def probe() -> bool:
        engine = create_async_engine(POSTGRES_ADMIN_URL)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False
        finally:
            await engine.dispose()

    return asyncio.run(probe())


def plugins_required() -> bool:
    """True in CI (``CI`` set) or with ``BYWAY_TEST_PLUGINS=required``: missing first-party plugins fail."""
    return os.environ.get("BYWAY_TEST_PLUGINS", "").lower() == "required" or os.environ.get("CI", "").lower() in {
        "1",
        "true",
        "yes",
    }


def require_plugin(module: str) -> Any:
    """Import a plugin module for a test; skip when it is not installed, FAIL in CI.

    Use instead of ``pytest.importorskip`` for first-party plugins, so that CI never passes by
    silently skipping the tests of a plugin that failed to install.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if plugins_required():
            pytest.fail(f"{module} is required (CI / BYWAY_TEST_PLUGINS=required) but cannot be imported: {exc}")
        pytest.skip(f"{module} is not installed (set BYWAY_TEST_PLUGINS=required to fail instead)")


def _postgres_required() -> bool:
    return os.environ.get("BYWAY_TEST_POSTGRES", "").lower() == "required"


async def drop_postgres_databases(prefix: str) -> None:
    """Drop every database whose name starts with ``prefix`` (test clean-up)."""
    engine = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            names = (
                await conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": prefix + "%"})
            ).scalars()
            for name in list(names):
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


_postgres_checked: bool | None = None


@pytest.fixture
def byway_settings(tmp_path: Path) -> Settings:
    """Dev settings with a temporary data directory (SQLite files go there)."""
    return make_settings(tmp_path / "data")


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A ``BYWAY_DATABASE_URL`` value: empty (a SQLite file per plugin) or a fresh Postgres template.

    The Postgres URL contains ``{plugin}``, so each plugin gets its own new database, created by
    the host (as in dev) and dropped after the test.
    """
    global _postgres_checked
    if request.param == "sqlite":
        yield ""
        return
    if _postgres_checked is None:
        _postgres_checked = postgres_available()
    if not _postgres_checked:
        if _postgres_required():
            pytest.fail("PostgreSQL is required (BYWAY_TEST_POSTGRES=required) but not reachable")
        pytest.skip("PostgreSQL not reachable")
    prefix = f"byway_t{uuid.uuid4().hex[:10]}_"
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{prefix}{{plugin}}"
    asyncio.run(drop_postgres_databases(prefix))


class MetricSamples(dict[tuple[str, frozenset[tuple[str, str]]], float]):
    """Samples of one ``/metrics`` scrape: ``samples.value("byway_http_requests_total", plugin="x")``."""

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples called ``name`` whose labels include ``labels`` (0 when none)."""
        wanted = set(labels.items())
        return sum(v for (n, got), v in self.items() if n == name and wanted <= got)

    def labelsets(self, name: str) -> list[dict[str, str]]:
        """The label sets of the samples called ``name``."""
        return [dict(got) for (n, got) in self if n == name]


async def scrape_metrics(client: httpx.AsyncClient, **headers: str) -> MetricSamples:
    """GET ``/metrics`` (it must answer 200) and parse it with prometheus-client's own parser."""
    from prometheus_client.parser import text_string_to_metric_families

    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    samples = MetricSamples()
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


# The first-party world (a seeded teacher, courses and a student) and the callers named by role for
# plugins' tests; imported last because they build on the helpers above.
from byway.testing_callers import (  # noqa: E402
    ANONYMOUS,
    PEOPLE,
    SERVICE,
    WHO,
    Callers,
    FakeAuthentication,
    FakeTeach,
    Person,
)
from byway.testing_world import (  # noqa: E402
    FAST_HASHING,
    Actor,
    World,
    byway_world,
    byway_world_plugins,
    core_plugins,
    fast_settings,
    open_world,
)

__all__ = [
    "ANONYMOUS",
    "FAST_HASHING",
    "PEOPLE",
    "SERVICE",
    "WHO",
    "Actor",
    "Callers",
    "FailingTransport",
    "FakeAuthentication",
    "FakeTeach",
    "MetricSamples",
    "Person",
    "TestApp",
    "World",
    "byway_settings",
    "byway_world",
    "byway_world_plugins",
    "chromium_path",
    "core_plugins",
    "database_url",
    "error_codes",
    "fast_settings",
    "free_port",
    "graphql",
    "live_server",
    "make_settings",
    "open_world",
    "require_browser",
    "running_app",
    "scrape_metrics",
    "serve_app",
    "user_token",
]
