"""REST routes of ``hello``, mounted under ``/api/hello/``. Raise errors: the app answers them."""

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

import byway
from byway_hello import store


def build_routes(plugin: byway.PluginRuntime) -> list[BaseRoute]:
    """``GET /api/hello/stats``: how many greetings are stored (anyone may ask)."""

    async def stats(request: Request) -> JSONResponse:
        plugin.principal_for(request)  # a bad token is refused (401) even where none is needed
        async with plugin.sessions() as session:
            return JSONResponse({"greetings": await store.count_greetings(session)})

    return [Route("/stats", stats, methods=["GET"])]
