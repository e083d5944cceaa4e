"""Where the host observes itself: HTTP requests, GraphQL operations and cross-plugin calls.

* :class:`TelemetryMiddleware` (ASGI, outermost): a request id, a SERVER span continuing the
  caller's ``traceparent``, the request's metrics and one access-log line.
* :func:`operation_span`: around every GraphQL operation a plugin runs (HTTP or in-process): names
  the operation for the request's metrics and counts the response's errors by code; an in-process
  call gets its own span, child of the caller's call span.
* :class:`CallResult` and :func:`record_call`: what the cross-plugin client reports when a call
  ends (outcome, latency, retries) to the host's call-result observers; the metrics are one.

Operation labels are the operation's first root field (``createCheckout``), never the query
text and never the client-chosen operation name, so their number is bounded by the schema.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import FieldNode, OperationDefinitionNode
from opentelemetry.trace import SpanKind

from byway import tracing
from byway.logs import REQUEST_ID_HEADER, accepted_request_id, request_id_var

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from byway.client import CallRecord
    from byway.execution import GraphQLExecutor
    from byway.host import Host
    from byway.runtime import PluginRuntime

access_log = logging.getLogger("byway.access")
#: Routes polled by machines (health checks, Prometheus): logged at DEBUG when they succeed.
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
call_log = logging.getLogger("byway.client")


@dataclass
class RequestObservation:
    """What the layers below the middleware learn about the request being served."""

    plugin: str
    operation: str | None = None
    error_code: str | None = None


_current: contextvars.ContextVar[RequestObservation | None] = contextvars.ContextVar("byway_request", default=None)


def operation_label(executor: GraphQLExecutor | None, query: Any, operation_name: Any) -> str:
    """The operation's first root field; ``invalid`` for a document that does not validate.

    Called once the operation ran, when its document is in the executor's cache. A long document
    that is not (the caller was refused before it was parsed) is ``unparsed``: labelling must not
    parse on the event loop what the executor parses in a thread.
    """
    from byway.execution import RequestError

    if executor is None or not isinstance(query, str):
        return "invalid"
    if len(query) >= executor.offload_chars and not executor.is_cached(query):
        return "unparsed"
    try:
        prepared = executor.prepare(query)
    except RequestError:
        return "invalid"
    for definition in prepared.document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name is not None and (definition.name is None or definition.name.value != operation_name):
            continue
        for selection in definition.selection_set.selections:
            if isinstance(selection, FieldNode) and selection.name.value != "__typename":
                return selection.name.value
        return "anonymous"
    return "invalid"


def _first_code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors")
    if not errors:
        return None
    code = (errors[0].get("extensions") or {}).get("code") if isinstance(errors[0], dict) else None
    return code if isinstance(code, str) else "INTERNAL"


def observe_operation_errors(runtime: PluginRuntime, body: dict[str, Any]) -> None:
    """Count the errors of one GraphQL operation's response by code."""
    errors = body.get("errors")
    if errors:
        runtime.host.metrics.observe_graphql_errors(runtime.name, errors)


@contextmanager
def operation_span(
    runtime: PluginRuntime, query: Any, operation_name: Any, request: Request | None
) -> Iterator[Callable[[dict[str, Any]], None]]:
    """Observe one GraphQL operation of ``runtime``; call the yielded function with the response body.

    Its errors are counted by code. An HTTP request's operation is named for the middleware's span
    and metrics; an in-process call gets a span of its own, child of the caller's call span.
    """
    host = runtime.host
    observation = _current.get() if request is not None else None

    def done(body: dict[str, Any]) -> str | None:
        observe_operation_errors(runtime, body)
        return _first_code(body)

    if request is not None:

        def done_http(body: dict[str, Any]) -> None:
            code = done(body)
            if observation is not None:
                observation.operation = operation_label(runtime.executor, query, operation_name)
                observation.error_code = code

        yield done_http
        return
    with host.tracing.span(f"graphql {runtime.name}", runtime.name, kind=SpanKind.SERVER) as span:

        def done_inprocess(body: dict[str, Any]) -> None:
            code = done(body)
            if not span.is_recording():  # nothing exported: the name and attributes go nowhere
                return
            label = operation_label(runtime.executor, query, operation_name)
            span.update_name(f"graphql {runtime.name} {label}")
            span.set_attribute("graphql.operation.name", label)
            if code is not None:
                tracing.mark_error(span, code)

        yield done_inprocess


@dataclass(frozen=True)
class CallResult:
    """How one cross-plugin call ended, for call-result observers (metrics, logs)."""

    outcome: str
    """``ok`` or the error code (the target's, or ``UPSTREAM_UNAVAILABLE`` when it was not reached)."""
    seconds: float
    retries: int


def record_call(host: Host, record: CallRecord, result: CallResult) -> None:
    """The host's own call-result observer: metrics and a DEBUG line."""
    metrics = host.metrics
    labels = (record.caller, record.target, record.operation, record.transport)
    count, duration = metrics.call_children(labels, result.outcome)
    count.inc()
    duration.observe(result.seconds)
    if result.retries:
        metrics.call_retries.labels(*labels).inc(result.retries)
    if result.outcome == "UPSTREAM_UNAVAILABLE":
        metrics.call_unavailable.labels(*labels).inc()
    if not call_log.isEnabledFor(logging.DEBUG):
        return
    call_log.debug(
        "%s -> %s.%s over %s: %s in %.1f ms",
        record.caller,
        record.target,
        record.operation,
        record.transport,
        result.outcome,
        result.seconds * 1000,
        extra={"caller": record.caller, "target": record.target, "operation": record.operation},
    )


class TelemetryMiddleware:
    """ASGI middleware: request id, server span, request metrics and an access-log line."""

    def __init__(self, app: ASGIApp, host: Host) -> None:
        self.app = app
        self.host = host

    def _plugin_of(self, path: str) -> str:
        if path.startswith("/api/"):
            name = path[5:].split("/", 1)[0]
            if name in self.host.plugins:
                return name
        return "host"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier: dict[str, str] = {}
        for key, value in scope.get("headers", ()):
            name = key.decode("latin-1").lower()
            if name in ("traceparent", "tracestate", REQUEST_ID_HEADER):
                carrier[name] = value.decode("latin-1")
        request_id = accepted_request_id(carrier.get(REQUEST_ID_HEADER))
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        observation = RequestObservation(self._plugin_of(path))
        rid_token = request_id_var.set(request_id)
        obs_token = _current.set(observation)
        status = 500
        header = (REQUEST_ID_HEADER.encode("latin-1"), request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        started = time.perf_counter()
        try:
            with self.host.tracing.span(
                f"{method} {observation.plugin}",
                observation.plugin,
                kind=SpanKind.SERVER,
                parent=tracing.extract(carrier),
                attributes={"http.request.method": method, "byway.request_id": request_id},
            ) as span:
                try:
                    await self.app(scope, receive, send_with_id)
                finally:
                    seconds = time.perf_counter() - started
                    route = _route_of(scope)
                    operation = observation.operation or route
                    outcome = observation.error_code or ("ok" if status < 400 else "error")
                    span.update_name(f"{method} {observation.plugin} {operation}")
                    span.set_attribute("http.response.status_code", status)
                    span.set_attribute("http.route", route)
                    if observation.error_code is not None or status >= 500:
                        tracing.mark_error(span, observation.error_code or str(status))
                    self.host.metrics.observe_request(observation.plugin, operation, status, outcome, seconds)
                    # The route's template, never the raw path (ids in paths may be capabilities).
                    # Probes and scrapes come every few seconds: DEBUG, unless they fail.
                    probe = observation.plugin == "host" and route in PROBES and status < 400
                    access_log.log(
                        logging.DEBUG if probe else logging.INFO,
                        "%s %s %s %d %.1f ms",
                        method,
                        observation.plugin,
                        operation,
                        status,
                        seconds * 1000,
                        extra={"plugin": observation.plugin, "operation": operation, "status": status},
                    )
        finally:
            _current.reset(obs_token)
            request_id_var.reset(rid_token)


def _route_of(scope: Scope) -> str:
    """The matched route's path template (``/dev-checkout/{session_id}``), ``unmatched`` for a 404."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        if path.endswith("/graphql") and scope.get("method") in ("GET", "HEAD"):
            return "playground"
        return path or "/"
    return "unmatched"
