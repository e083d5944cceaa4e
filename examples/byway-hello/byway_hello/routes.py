"""REST endpoints of ``hello``, mounted under ``/api/hello/``."""

from __future__ import annotations

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from byway.runtime import PluginRuntime
from byway.web import rest_endpoint
from byway_hello.models import greetings


def routes(plugin: PluginRuntime) -> list[BaseRoute]:
    """``GET /api/hello/stats``: how many greetings are stored (anyone may ask)."""

    @rest_endpoint
    async def stats(request: Request) -> JSONResponse:
        plugin.principal_for(request)  # a bad token is refused (401) even where none is needed
        async with plugin.sessions() as session:
            count = await session.scalar(select(func.count()).select_from(greetings))
        return JSONResponse({"greetings": int(count or 0)})

    return [Route("/stats", stats, methods=["GET"])]
