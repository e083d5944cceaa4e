"""REST routes of ``shelf``: no decorator, errors are the app's business."""

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

import byway


def build_routes(plugin: byway.PluginRuntime) -> list[BaseRoute]:
    async def echo(request: Request) -> JSONResponse:
        body = await byway.read_json(request, plugin.settings.max_body_bytes)
        if not isinstance(body, dict):
            raise byway.BadUserInput("Send a JSON object", field="body")
        if body.get("refuse"):
            raise byway.Forbidden("Not for you")
        if body.get("crash"):
            raise RuntimeError("secret internal detail")
        return JSONResponse({"echo": body, "plugin": plugin.name})

    return [Route("/echo", echo, methods=["POST"])]
