"""REST endpoints of ``students-internal``: ``POST /api/students-internal/students``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from byway.errors import BadUserInput, Unauthenticated
from byway.runtime import PluginRuntime
from byway.web import read_json, rest_endpoint
from byway_students_internal import store
from byway_students_internal.access import authorize_registration


def routes(plugin: PluginRuntime) -> list[Route]:
    """The plugin's REST routes, closing over its runtime."""

    @rest_endpoint
    async def create_student(request: Request) -> JSONResponse:
        """Body ``{userId, displayName}``: 201 with the new student, 200 with the existing one.

        The caller registers themself, or is a service or an admin (403 otherwise, 401 without a token).
        """
        principal = plugin.principal_for(request)
        if principal.is_anonymous:
            raise Unauthenticated("You must be logged in")
        body = await read_json(request, plugin.settings.max_body_bytes)
        if not isinstance(body, dict):
            raise BadUserInput("The body must be a JSON object with userId and displayName")
        user_id, name = await authorize_registration(plugin, principal, body.get("userId"), body.get("displayName"))
        async with plugin.sessions() as session:
            student, created = await store.upsert_student(session, user_id, name)
            await session.commit()
        return JSONResponse(student, status_code=201 if created else 200)

    return [Route("/students", create_student, methods=["POST"])]
