"""HTTP: the per-plugin GraphQL endpoint, app-wide REST error handling, and body readers.

A plugin's REST route (``byway_register_routes`` / ``routes.build_routes``) simply raises: a
:class:`~byway.errors.ByWayError` becomes its HTTP status and a GraphQL-shaped JSON body, anything
else a JSON 500 ``INTERNAL`` with no detail (logged). No decorator to remember.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from byway.auth import bearer_token
from byway.errors import BAD_USER_INPUT, INTERNAL, BadUserInput, ByWayError
from byway.playground import playground_html
from byway.runtime import PluginRuntime
from byway.security import unsafe_text_path

log = logging.getLogger("byway.web")

#: HTTP status of each error code on REST endpoints.
HTTP_STATUS = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "BAD_USER_INPUT": 400,
    "ALREADY_ENROLLED": 409,
    "CONFLICT": 409,
    "RATE_LIMITED": 429,
    "UPSTREAM_UNAVAILABLE": 503,
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


async def read_json(request: Request, max_bytes: int, *, check_text: bool = True) -> Any:
    """The JSON body, with :class:`~byway.errors.BadUserInput` for malformed JSON.

    Strings (keys included) holding a NUL character or a lone surrogate (``"\\u0000"``,
    ``"\\ud800"``) are refused here too, with ``extensions.field`` naming where: no database stores
    them and a response echoing one could not even be encoded.
    """
    body = await read_body(request, max_bytes)
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadUserInput("The request body is not valid JSON") from exc
    except RecursionError as exc:  # e.g. [[[[...]]]] nested deeper than Python's recursion limit
        raise BadUserInput("The request body is nested too deeply") from exc
    unsafe = unsafe_text_path(value) if check_text else None
    if unsafe is not None:
        raise BadUserInput(f"{unsafe} must not contain NUL characters or lone surrogates", field=unsafe)
    return value


Endpoint = Callable[[Request], Awaitable[Response]]


def rest_endpoint(func: Endpoint) -> Endpoint:
    """Deprecated and harmless: returns ``func`` unchanged (the app now handles REST errors itself)."""
    return func


async def handle_byway_error(request: Request, exc: Exception) -> Response:
    """Starlette exception handler: a refusal raised by any route becomes its status and code."""
    assert isinstance(exc, ByWayError)
    return error_response(exc)


async def handle_unexpected_error(request: Request, exc: Exception) -> Response:
    """Starlette exception handler: any other failure is a bare JSON 500 (the detail is only logged)."""
    log.error("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(error_body(INTERNAL, "Internal server error"), status_code=500)


class PluginErrors:
    """ASGI wrapper of one plugin's routes: a failure becomes a JSON error response, never a crash.

    Starlette's own handler for ``Exception`` answers and then re-raises (so servers log it); this
    wrapper answers and logs, so a plugin's bug is one logged, contained 500.
    """

    def __init__(self, app: Any, plugin: str) -> None:
        self.app = app
        self.plugin = plugin

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = False

        async def tracked_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception as exc:
            if started or scope["type"] != "http" or isinstance(exc, HTTPException):
                raise  # Starlette answers its own HTTPException (404, 405) itself
            request = Request(scope, receive)
            if isinstance(exc, ByWayError):
                response = error_response(exc)
            else:
                log.error("plugin %s: unexpected error in %s %s", self.plugin, request.method, request.url.path,
                          exc_info=exc)
                response = JSONResponse(error_body(INTERNAL, "Internal server error"), status_code=500)
            await response(scope, receive, send)


#: The GraphQL-over-HTTP media types: the newer one, and plain JSON (the default).
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
#: Reasons of request errors that mean the HTTP request itself was malformed (400 whatever the media type):
#: not the shape of a GraphQL request, or text no database can store (NUL, lone surrogates).
_MALFORMED = frozenset({"request", "text"})


def _media_type(value: str) -> tuple[str, dict[str, str]]:
    kind, _, rest = value.partition(";")
    params = {}
    for part in rest.split(";"):
        key, _, val = part.partition("=")
        if key.strip():
            params[key.strip().lower()] = val.strip().strip('"').lower()
    return kind.strip().lower(), params


def response_media_type(accept: str | None) -> str | None:
    """The media type to answer with for an ``Accept`` header, or None when none is acceptable.

    ``application/graphql-response+json`` when the client prefers it (or accepts only it),
    else ``application/json`` (also for a missing header, ``*/*`` and ``application/*``).
    """
    if not accept or not accept.strip():
        return APPLICATION_JSON
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(accept.split(",")):
        kind, params = _media_type(item)
        try:
            quality = float(params.get("q", "1"))
        except ValueError:
            quality = 0.0
        if quality <= 0:
            continue
        if kind == GRAPHQL_RESPONSE_JSON:
            choice = GRAPHQL_RESPONSE_JSON
        elif kind in (APPLICATION_JSON, "*/*", "application/*"):
            choice = APPLICATION_JSON
        else:
            continue
        key = (quality, -position, choice)
        if best is None or key[:2] > best[:2]:
            best = key
    return None if best is None else best[2]


class GraphQLEndpoint:
    """``/api/<plugin>/graphql``: POST runs an operation, GET shows the GraphiQL playground.

    Follows the GraphQL-over-HTTP specification: a POST must be ``application/json`` (anything
    else is 415, so no cross-site "simple" form post reaches an operation); the response is
    ``application/graphql-response+json`` when the client asks for it, where parse, validation
    and variable failures are 400, else ``application/json``, where they are 200 with ``errors``.
    """

    def __init__(self, runtime: PluginRuntime) -> None:
        self.runtime = runtime
        self._playground = playground_html(runtime.name, f"/api/{runtime.name}/graphql")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        if request.method in ("GET", "HEAD"):
            if self.runtime.settings.playground_enabled:
                response: Response = HTMLResponse(self._playground)
            else:
                response = JSONResponse(
                    error_body("NOT_FOUND", "The playground is off (BYWAY_PLAYGROUND); POST operations here"),
                    status_code=404,
                )
        else:
            response = await self.post(request)
        await response(scope, receive, send)

    async def post(self, request: Request) -> Response:
        """Run the operation in the JSON body with the caller of the ``Authorization`` header."""
        media = response_media_type(request.headers.get("accept"))
        if media is None:
            return JSONResponse(
                error_body(BAD_USER_INPUT, f"Acceptable responses: {APPLICATION_JSON}, {GRAPHQL_RESPONSE_JSON}"),
                status_code=406,
            )
        kind, params = _media_type(request.headers.get("content-type", ""))
        if kind != APPLICATION_JSON or params.get("charset", "utf-8") not in ("utf-8", "utf8"):
            return JSONResponse(
                error_body(BAD_USER_INPUT, "A GraphQL request must be a POST of application/json (UTF-8)"),
                status_code=415,
                media_type=media,
            )
        try:
            # The executor checks the text of the query, operationName and variables itself (for
            # in-process calls too), naming the argument in ``extensions.field``.
            body = await read_json(request, self.runtime.settings.max_body_bytes, check_text=False)
            token = bearer_token(request.headers.get("authorization"))
        except ByWayError as exc:
            response = error_response(exc)
            response.media_type = media
            response.headers["content-type"] = media
            return response
        if not isinstance(body, dict):
            return JSONResponse(
                error_body(BAD_USER_INPUT, "The request body must be a JSON object"), status_code=400, media_type=media
            )
        extensions = body.get("extensions")
        if extensions is not None and not isinstance(extensions, dict):
            return JSONResponse(
                error_body(BAD_USER_INPUT, "'extensions' must be an object"), status_code=400, media_type=media
            )
        status, payload = await self.runtime.run_operation(
            body.get("query"), body.get("variables"), body.get("operationName"), token, request
        )
        if status == 400 and media == APPLICATION_JSON and "data" not in payload:
            reasons = {(e.get("extensions") or {}).get("reason") for e in payload.get("errors") or []}
            if not reasons & _MALFORMED:
                # A well-formed request whose document or variables fail: 200 under application/json.
                status = 200
        return JSONResponse(payload, status_code=status, media_type=media)
