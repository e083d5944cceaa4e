"""The cross-plugin client: the only way one plugin talks to another.

``await ctx.client.call("students-internal", IS_ENROLLED_ME, {"courseIds": ids}, as_=ctx.principal)``

* ``as_=<Principal>`` calls on behalf of that caller (its token is forwarded);
  ``as_="service"`` calls as the calling plugin, with a short-lived signed service token.
* In-process transport (default): the target plugin's executor runs the operation in this event
  loop through the same authentication and context code as an HTTP request.
* HTTP transport (``BYWAY_TRANSPORT=http`` or a ``BYWAY_PLUGIN_URL_<P>``): a POST to
  ``<base>/api/<plugin>/graphql`` with httpx.
* Transient failures (connection errors, timeouts, 5xx) are retried with bounded exponential
  backoff, then raise ``UPSTREAM_UNAVAILABLE``; business errors are raised at once as
  :class:`CrossPluginError` carrying the target's code and extensions. Operations that may be
  retried must therefore be idempotent, as every cross-plugin mutation in Byway is.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

import httpx
from graphql import GraphQLError, OperationDefinitionNode, parse

from byway.auth import Principal
from byway.errors import (
    BAD_USER_INPUT,
    FORBIDDEN,
    NOT_FOUND,
    RATE_LIMITED,
    UNAUTHENTICATED,
    UPSTREAM_UNAVAILABLE,
    ByWayError,
    UpstreamUnavailable,
    error_class,
)
from byway.execution import first_error_code
from byway.logs import REQUEST_ID_HEADER, request_id_var
from byway.telemetry import CallResult
from byway.tracing import SpanKind, inject, mark_error

if TYPE_CHECKING:
    from byway.host import Host

log = logging.getLogger("byway.client")

CallAs = Principal | Literal["service"]

#: Codes that describe the caller rather than the callee; see :meth:`CrossPluginError.for_caller`.
_CALLER_CODES = frozenset({UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, RATE_LIMITED})


class CrossPluginError(ByWayError):
    """Another plugin answered with an error; ``code`` and extensions are the target's own."""

    def __init__(
        self, plugin: str, operation: str, code: str, message: str, extensions: Mapping[str, Any] | None = None
    ) -> None:
        ext = {k: v for k, v in (extensions or {}).items() if k != "code"}
        super().__init__(message, **ext)
        self.code = code
        self.plugin = plugin
        self.operation = operation
        self.remote_message = message

    def __str__(self) -> str:
        return f"{self.plugin}.{self.operation}: [{self.code}] {self.remote_message}"

    def for_caller(
        self,
        what: str,
        *,
        codes: Mapping[str, str] | None = None,
        messages: Mapping[str, str] | None = None,
    ) -> ByWayError:
        """This refusal as an error of the calling plugin, for its own caller: the one way across.

        ``raise exc.for_caller("Could not check the course") from exc``

        Codes that describe the caller (``UNAUTHENTICATED``, ``FORBIDDEN``, ``NOT_FOUND``,
        ``BAD_USER_INPUT``, ``RATE_LIMITED``: its token, its rights, what it asked for) pass on
        with ``what`` as context and the target's extensions (``field`` excepted: it names the
        target's argument, not the caller's); anything else means the other plugin failed us, so it
        becomes ``UPSTREAM_UNAVAILABLE`` naming the plugin.

        Args:
            what: what the calling plugin was doing, for the message.
            codes: remaps the target's codes first, e.g. ``{"NOT_FOUND": "FORBIDDEN"}``; a code
                listed here is always passed on (``{"CONFLICT": "CONFLICT"}`` passes CONFLICT on as is).
            messages: the whole message for a (resulting) code, e.g. ``{"FORBIDDEN": "Not yours"}``.
        """
        code = (codes or {}).get(self.code, self.code)
        remapped = self.code in (codes or {})
        message = (messages or {}).get(code) or f"{what}: {self.remote_message}"
        if remapped or code in _CALLER_CODES:
            extensions = {k: v for k, v in self.extensions.items() if k != "field"}
            return error_for(code, message, **extensions)
        return UpstreamUnavailable(
            (messages or {}).get(UPSTREAM_UNAVAILABLE)
            or f"{what}: {self.plugin} answered {self.code} ({self.remote_message})",
            plugin=self.plugin,
        )


def error_for(code: str, message: str, **extensions: Any) -> ByWayError:
    """An error with exactly ``code``: its own class when Byway has one, else a :class:`ByWayError`."""
    cls = error_class(code)
    error = cls.__new__(cls)
    ByWayError.__init__(error, message, **extensions)
    if error.code != code:
        error.code = code
    return error


class TransientError(Exception):
    """A failure worth retrying: the request may not have been processed."""


class Transport(Protocol):
    """Sends one operation to a plugin and returns ``(http_status, response_body)``."""

    name: str

    async def send(
        self,
        plugin: str,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        token: str | None,
    ) -> tuple[int, dict[str, Any]]:
        """Deliver the operation; raise :class:`TransientError` for failures worth retrying."""
        ...


class InProcessTransport:
    """Runs the operation against the target plugin in this process (no sockets, no JSON)."""

    name = "inprocess"

    def __init__(self, host: Host) -> None:
        self._host = host

    async def send(
        self,
        plugin: str,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        token: str | None,
    ) -> tuple[int, dict[str, Any]]:
        runtime = self._host.plugins.get(plugin)
        if runtime is None or runtime.executor is None:
            raise UpstreamUnavailable(f"plugin {plugin!r} is not loaded in this process", plugin=plugin)
        return await runtime.run_operation(query, dict(variables) if variables else None, operation_name, token)


class HttpTransport:
    """POSTs the operation to ``<base_url>/api/<plugin>/graphql`` with httpx."""

    name = "http"

    def __init__(self, base_url: str, http: httpx.AsyncClient) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = http

    async def send(
        self,
        plugin: str,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        token: str | None,
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": "application/json", REQUEST_ID_HEADER: request_id_var.get()}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        inject(headers)  # W3C traceparent: the target's spans join this trace
        payload: dict[str, Any] = {"query": query, "variables": dict(variables) if variables else None}
        if operation_name:
            payload["operationName"] = operation_name
        try:
            response = await self._http.post(
                f"{self.base_url}/api/{plugin}/graphql", content=json.dumps(payload), headers=headers
            )
        except (httpx.TransportError, httpx.TimeoutException) as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500:
            raise TransientError(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise TransientError(f"HTTP {response.status_code} with a body that is not JSON") from exc
        if not isinstance(body, dict):
            raise TransientError(f"HTTP {response.status_code} with an unexpected body")
        return response.status_code, body


@dataclass(frozen=True)
class CallRecord:
    """One cross-plugin call, as seen by call observers (tests, metrics)."""

    caller: str
    target: str
    operation: str
    as_kind: str
    transport: str


_operation_names: dict[str, str] = {}


def operation_name_of(document: str) -> str:
    """The operation's name, else its first root field (``anonymous`` if neither); cached."""
    name = _operation_names.get(document)
    if name is None:
        name = "anonymous"
        try:
            parsed = parse(document)
        except GraphQLError:
            parsed = None
        if parsed is not None:
            for definition in parsed.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    if definition.name:
                        name = definition.name.value
                    elif definition.selection_set.selections:
                        first = definition.selection_set.selections[0]
                        name = getattr(getattr(first, "name", None), "value", name)
                    break
        if len(_operation_names) < 4096:
            _operation_names[document] = name
    return name


class CrossPluginClient:
    """The client a plugin uses to call others; ``caller`` is the plugin it belongs to."""

    def __init__(self, host: Host, caller: str) -> None:
        self._host = host
        self.caller = caller

    async def call(
        self,
        plugin: str,
        document: str,
        variables: Mapping[str, Any] | None = None,
        *,
        as_: CallAs,
        operation_name: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (a per-call budget, enforced with asyncio.timeout)
    ) -> dict[str, Any]:
        """Run ``document`` on ``plugin`` and return its ``data``.

        Args:
            plugin: the target plugin's name.
            document: a GraphQL document (keep it a module constant: it is parsed once).
            variables: the operation's variables.
            as_: the principal to call on behalf of, or ``"service"`` to call as this plugin.
            operation_name: which operation of the document to run.
            timeout: seconds per attempt (default: ``client_timeout_seconds``).

        Raises:
            CrossPluginError: the target refused (its code and extensions are kept).
            UpstreamUnavailable: the target could not be reached after the retries.
        """
        token = self._token_for(as_)
        op = operation_name or operation_name_of(document)
        transport = self._host.transport_for(plugin)
        record = CallRecord(self.caller, plugin, op, "service" if as_ == "service" else as_.kind, transport.name)
        self._host.notify_call(record)
        tracing = self._host.tracing
        attributes = (
            {"byway.target": plugin, "byway.operation": op, "byway.transport": transport.name}
            if tracing.exporting
            else None
        )
        retries = [0]
        started = time.perf_counter()
        outcome = "INTERNAL"
        # An HTTP call always has its span (the target's spans and logs are its children); an
        # in-process one only when spans are exported (docs/performance.md).
        span_of = tracing.span if transport.name == "http" else tracing.detail_span
        with span_of(f"call {plugin}.{op}", self.caller, kind=SpanKind.CLIENT, attributes=attributes) as span:
            try:
                data = await self._call(
                    plugin, document, variables, operation_name, op, transport, token, timeout, retries
                )
                outcome = "ok"
                return data
            except ByWayError as exc:
                outcome = exc.code
                mark_error(span, exc.code)
                raise
            finally:
                result = CallResult(outcome, time.perf_counter() - started, retries[0])
                self._host.notify_call_result(record, result)

    async def _call(
        self,
        plugin: str,
        document: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        op: str,
        transport: Transport,
        token: str | None,
        timeout: float | None,  # noqa: ASYNC109
        retries: list[int],
    ) -> dict[str, Any]:
        settings = self._host.settings
        timeout = settings.client_timeout_seconds if timeout is None else timeout
        attempts = 1 + max(settings.client_retries, 0) if transport.name == "http" else 1
        delay = settings.client_backoff_seconds
        last_error = ""
        for attempt in range(1, attempts + 1):
            try:
                async with asyncio.timeout(timeout):
                    status, body = await transport.send(plugin, document, variables, operation_name, token)
                break
            except (TransientError, TimeoutError) as exc:
                last_error = str(exc) or type(exc).__name__
                log.warning(
                    "%s -> %s.%s attempt %d/%d failed: %s", self.caller, plugin, op, attempt, attempts, last_error
                )
                if attempt < attempts:
                    retries[0] += 1
                    await asyncio.sleep(delay * 2 ** (attempt - 1))
        else:
            raise UpstreamUnavailable(
                f"{plugin}.{op} is unavailable after {attempts} attempt(s): {last_error}", plugin=plugin, operation=op
            )
        errors = body.get("errors")
        if errors:
            first = errors[0] if isinstance(errors[0], dict) else {}
            code = first_error_code(errors)
            message = str(first.get("message", "error"))
            if code == UPSTREAM_UNAVAILABLE:
                message = f"{plugin}.{op}: {message}"
            raise CrossPluginError(plugin, op, code, message, first.get("extensions"))
        if status >= 400:
            raise CrossPluginError(plugin, op, "INTERNAL", f"HTTP {status}")
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    def _token_for(self, as_: CallAs) -> str | None:
        if as_ == "service":
            return self._host.tokens.service_token(self.caller)
        if isinstance(as_, Principal):
            return as_.token
        raise TypeError("as_ must be a Principal or 'service'")


CallObserver = Callable[[CallRecord], None]
