"""``pages``: a test-only plugin serving pages at the site root (``byway_register_pages``).

``Pages(paths)`` serves each path with a small HTML page naming it; tests use two of them to
check that a path claimed twice, or one the host reserves, fails start-up.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

import byway
from byway.declarations import PluginInfo
from byway.runtime import PluginRuntime


class Pages:
    """A plugin named ``name`` whose pages are ``paths`` (each answers ``<name> at <path>``)."""

    def __init__(self, name: str = "pages", paths: tuple[str, ...] = ("/", "/about")) -> None:
        self.name = name
        self.paths = paths

    @byway.hookimpl
    def byway_register_plugin(self) -> PluginInfo:
        return PluginInfo(name=self.name, description="test-only root pages")

    @byway.hookimpl
    def byway_register_pages(self, plugin: PluginRuntime) -> list[Any]:
        async def page(request: Request) -> HTMLResponse:
            return HTMLResponse(f"<p>{plugin.name} at {request.url.path}</p>")

        return [Route(path, page, methods=["GET"]) for path in self.paths]
