"""HTTP: the per-plugin GraphQL endpoint and helpers for plugins' REST endpoints."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from byway.auth import bearer_token
from byway.errors import BAD_USER_INPUT, INTERNAL, BadUserInput, ByWayError
from byway.playground import playground_html
from byway.runtime import PluginRuntime

log = logging.getLogger("byway.web")

#: HTTP status of each error code on REST endpoints.
HTTP_STATUS = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "BAD_USER_INPUT": 400,
    "ALREADY_ENROLLED": 409,
    "CONFLICT": 409,
    "UPSTREAM_UNAVAILABLE": 503,
    "RATE_LIMITED": 429,
    "INTERNAL": 500,
}


class PayloadTooLarge(ByWayError):
    """The request body is larger than ``max_body_bytes`` (HTTP 413)."""

    code = BAD_USER_INPUT
    default_message = "Request body too large"


def error_body(code: str, message: str, **extensions: Any) -> dict[str, Any]:
    """A JSON error body in the GraphQL error shape, for REST endpoints too."""
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


def error_response(exc: ByWayError) -> JSONResponse:
    """The REST response for a refusal: its status and a GraphQL-shaped error body."""
    status = 413 if isinstance(exc, PayloadTooLarge) else HTTP_STATUS.get(exc.code, 400)
    headers = {}
    retry_after = exc.extensions.get("retryAfterSeconds")
    if status == 429 and retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(
        {"errors": [{"message": exc.message, "extensions": exc.to_extensions()}]}, status_code=status, headers=headers
    )


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The raw body, refusing more than ``max_bytes`` without reading it all (:class:`PayloadTooLarge`)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"Request body exceeds {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"Request body exceeds {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, max_bytes: int) -> Any:
    """The JSON body, with :class:`~byway.errors.BadUserInput` for malformed JSON."""
    body = await read_body(request, max_bytes)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadUserInput("The request body is not valid JSON") from exc
    except RecursionError as exc:  # e.g. [[[[...]]]] nested deeper than Python's recursion limit
        raise BadUserInput("The request body is nested too deeply") from exc


Endpoint = Callable[[Request], Awaitable[Response]]


def rest_endpoint(func: Endpoint) -> Endpoint:
    """Wrap a plugin's REST endpoint: refusals become their status and code, surprises a bare 500."""

    @wraps(func)
    async def endpoint(request: Request) -> Response:
        try:
            return await func(request)
        except ByWayError as exc:
            return error_response(exc)
        except Exception:
            log.exception("unexpected error in %s %s", request.method, request.url.path)
            return JSONResponse(error_body(INTERNAL, "Internal server error"), status_code=500)

    return endpoint


class GraphQLEndpoint:
    """``/api/<plugin>/graphql``: POST runs an operation, GET shows the GraphiQL playground."""

    def __init__(self, runtime: PluginRuntime) -> None:
        self.runtime = runtime
        self._playground = playground_html(runtime.name, f"/api/{runtime.name}/graphql")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        if request.method in ("GET", "HEAD"):
            response: Response = HTMLResponse(self._playground)
        else:
            response = await self.post(request)
        await response(scope, receive, send)

    async def post(self, request: Request) -> Response:
        """Run the operation in the JSON body with the caller of the ``Authorization`` header."""
        try:
            body = await read_json(request, self.runtime.settings.max_body_bytes)
            token = bearer_token(request.headers.get("authorization"))
        except ByWayError as exc:
            return error_response(exc)
        if not isinstance(body, dict):
            return JSONResponse(error_body(BAD_USER_INPUT, "The request body must be a JSON object"), status_code=400)
        status, payload = await self.runtime.run_operation(
            body.get("query"), body.get("variables"), body.get("operationName"), token, request
        )
        return JSONResponse(payload, status_code=status)
