"""The Starlette application: every plugin's API under ``/api/<name>/``, health, and the lifespan."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.staticfiles import StaticFiles

from byway.errors import ByWayError
from byway.health import readiness
from byway.host import Host
from byway.logs import setup_logging
from byway.metrics import metrics_endpoint
from byway.playground import STATIC_DIR, STATIC_PATH
from byway.plugins import PluginError
from byway.security import SecurityHeadersMiddleware
from byway.settings import Settings, load_settings
from byway.telemetry import TelemetryMiddleware
from byway.web import GraphQLEndpoint, PluginErrors, handle_byway_error, handle_unexpected_error

log = logging.getLogger("byway.app")


def build_routes(host: Host) -> list[BaseRoute]:
    """The routes of every plugin: the GraphQL endpoint (exact path) and its REST routes."""
    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        # The playground's GraphiQL build, so the playground works without internet access.
        Mount(STATIC_PATH, app=StaticFiles(directory=STATIC_DIR), name="byway-static"),
    ]
    for runtime in host.plugins.values():
        own: list[BaseRoute] = []
        if runtime.executor is not None:
            own.append(Route("/graphql", GraphQLEndpoint(runtime), methods=["GET", "POST"]))
        own.extend(host.routes_of(runtime))
        if own:
            # One mount per plugin, so a wrong method on a known path is 405 (not the mount's 404),
            # and no redirect for a trailing slash: every path is exact.
            # PluginErrors: whatever a route raises is answered as JSON (see byway.web).
            router = Router(own, redirect_slashes=False)
            routes.append(Mount(f"/api/{runtime.name}", app=PluginErrors(router, runtime.name)))
    # Pages at the site root come last, so they can never shadow an API, health or static route.
    routes.extend(site_pages(host, routes))
    return routes


def site_pages(host: Host, taken: list[BaseRoute]) -> list[BaseRoute]:
    """Every plugin's root pages (``byway_register_pages``).

    A page may not claim a path the host serves (``taken``: health, metrics, static files), anything
    under ``/api/`` (every plugin's, loaded or not), or a path another plugin's page claims: each
    fails start-up naming the plugin.
    """
    reserved = ["/api"] + [getattr(route, "path", "") for route in taken]
    pages: list[BaseRoute] = []
    owners: dict[str, str] = {}
    for runtime in host.plugins.values():
        for route in host.pages_of(runtime):
            path = getattr(route, "path", "")
            if any(path == r or path.startswith(r.rstrip("/") + "/") for r in reserved if r):
                raise PluginError(f"plugin {runtime.name!r} claims the page {path!r}, which the host reserves")
            if path in owners:
                raise PluginError(f"plugins {owners[path]!r} and {runtime.name!r} both claim the page {path!r}")
            owners[path] = runtime.name
            pages.append(route)
    return pages


async def healthz(request: Request) -> JSONResponse:
    """The process is up."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready (200) when every plugin's database passes a fresh-connection check and is at its head
    revision, and every remote plugin answers; 503 otherwise (see :mod:`byway.health`)."""
    host: Host = request.app.state.host
    ready, plugins = await readiness(host)
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "plugins": plugins}, status_code=200 if ready else 503
    )


def create_app(
    settings: Settings | None = None,
    plugins: Sequence[Any] | None = None,
    *,
    load_entrypoints: bool | None = None,
) -> Starlette:
    """Build the Byway application.

    Args:
        settings: configuration; default :func:`~byway.settings.load_settings` (TOML + environment).
        plugins: plugin objects to register directly. When given, entry points are not loaded
            unless ``load_entrypoints`` is True (tests never depend on what is installed).
        load_entrypoints: load the ``byway.plugins`` entry-point group.

    The lifespan opens each plugin's database, applies pending migrations (dev by default),
    runs start-up hooks and jobs, and undoes it all at shut-down. ``app.state.host`` is the
    :class:`~byway.host.Host`.
    """
    settings = settings or load_settings()
    if load_entrypoints is None:
        load_entrypoints = plugins is None
    host = Host(settings, plugins, load_entrypoints=load_entrypoints)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await host.start()
        try:
            yield
        finally:
            await host.stop()

    app = Starlette(
        debug=settings.debug,
        routes=build_routes(host),
        lifespan=lifespan,
        exception_handlers={ByWayError: handle_byway_error, Exception: handle_unexpected_error},
        middleware=[
            Middleware(TelemetryMiddleware, host=host),
            Middleware(SecurityHeadersMiddleware, hsts=settings.is_production, cors_origins=settings.cors_origins),
        ],
    )
    app.router.redirect_slashes = False
    app.state.host = host
    return app


def create_served_app() -> Starlette:
    """The app ``byway serve`` runs in each worker: logging configured by the settings first, and
    the garbage collector tuned once the app has started (:func:`tune_gc`)."""
    settings = load_settings()
    setup_logging(settings)
    return served(create_app(settings))


def served(app: Starlette) -> Starlette:
    """``app`` as a served process runs it: :func:`tune_gc` once its lifespan has started."""
    started = app.router.lifespan_context
    host: Host = app.state.host
    threshold = host.settings.gc_young_threshold

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with started(app):
            tune_gc(threshold)
            yield

    app.router.lifespan_context = lifespan
    return app


def tune_gc(young_threshold: int) -> None:
    """Tune a served process's garbage collector, once, after start-up (0: leave it alone).

    What start-up allocated (schemas, SQLAlchemy's tables and caches, plugins) lives as long as the
    process: :func:`gc.freeze` moves it out of every later collection's traversal. A request
    allocates hundreds of short-lived containers (result dicts, lists, frames); with Python's
    default young threshold (700) a page of 50 courses sets off several young collections, each
    traversing whatever the request holds at that moment. ``young_threshold`` allocations between
    them make those rare; the older generations keep Python's thresholds.
    """
    if young_threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, oldest)
