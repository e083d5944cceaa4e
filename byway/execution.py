"""Running GraphQL operations: cached parse and validation, limits, and error formatting.

One :class:`GraphQLExecutor` per plugin. The HTTP endpoint and the in-process transport both call
:meth:`GraphQLExecutor.run`, so an operation gets the same data and the same error codes either way.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import traceback
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ariadne import make_executable_schema
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    parse,
    specified_rules,
    validate,
)
from graphql.language import BREAK, OperationDefinitionNode, StringValueNode, Visitor, visit

from byway.context import RequestContext
from byway.declarations import GraphQLApi
from byway.errors import BAD_USER_INPUT, INTERNAL, ByWayError
from byway.fast_execution import execute_lean
from byway.limits import MAX_INTROSPECTION_DEPTH, DocumentShape, document_shape, query_cost
from byway.security import unsafe_text, unsafe_text_path

log = logging.getLogger("byway.graphql")


def build_schema(api: GraphQLApi) -> GraphQLSchema:
    """The executable schema of a plugin's :class:`~byway.declarations.GraphQLApi`."""
    type_defs = [api.type_defs] if isinstance(api.type_defs, str) else list(api.type_defs)
    return make_executable_schema(type_defs, *api.bindables)


class RequestError(Exception):
    """The request itself is unusable (HTTP 400): parse/validation failure, limits, bad variables."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__(errors[0]["message"] if errors else "bad request")


@dataclass(frozen=True)
class PreparedDocument:
    """A parsed, validated document with its shape and operation types, cached by query text."""

    document: DocumentNode
    shape: DocumentShape
    operations: Mapping[str | None, str]


def _request_error(message: str, reason: str, **extra: Any) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": BAD_USER_INPUT, "reason": reason, **extra}}


#: Defaults of the limits checked before a document is validated (see :class:`GraphQLExecutor`).
MAX_QUERY_BYTES = 100_000
MAX_QUERY_TOKENS = 2_000
MAX_FIELD_REPEATS = 20
MAX_MERGE_WORK = 20_000
#: Documents at least this long are parsed and validated in a worker thread, off the event loop.
OFFLOAD_CHARS = 2_048
#: How many documents are prepared in worker threads at once (the rest wait their turn).
OFFLOAD_SLOTS = 2

_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def hide_suggestions(message: str) -> str:
    """``message`` without graphql-core's "Did you mean ...?" hints (they leak the schema)."""
    return _SUGGESTION.sub("", message)


class GraphQLExecutor:
    """Executes operations against one plugin's schema with cached documents and limits."""

    def __init__(
        self,
        plugin: str,
        schema: GraphQLSchema,
        *,
        introspection: bool = True,
        max_depth: int = 12,
        max_cost: int = 5000,
        debug: bool = False,
        cache_size: int = 1024,
        max_query_bytes: int = MAX_QUERY_BYTES,
        max_tokens: int = MAX_QUERY_TOKENS,
        max_field_repeats: int = MAX_FIELD_REPEATS,
        max_merge_work: int = MAX_MERGE_WORK,
        suggestions: bool = True,
        offload_chars: int = OFFLOAD_CHARS,
    ) -> None:
        self.plugin = plugin
        self.schema = schema
        self.max_depth = max_depth
        self.max_cost = max_cost
        self.max_query_bytes = max_query_bytes
        self.max_tokens = max_tokens
        self.max_field_repeats = max_field_repeats
        self.max_merge_work = max_merge_work
        self.suggestions = suggestions
        self.offload_chars = offload_chars
        self.debug = debug
        self._rules = list(specified_rules)
        if not introspection:
            self._rules.append(NoSchemaIntrospectionCustomRule)
        self._cache: OrderedDict[str, PreparedDocument | RequestError] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def prepare(self, query: str) -> PreparedDocument:
        """Parse, check and validate ``query`` once; later calls with the same text hit the cache.

        The work is bounded before it is done: the text's size, then the parser's token count,
        then depth, cost, repeated fields and merge work on the parsed document, and only then
        validation. Refusals are cached too; each costs at most a bounded parse.

        Raises:
            RequestError: the query is too large, does not parse, breaks a limit or does not validate.
        """
        if len(query) > self.max_query_bytes:
            raise RequestError(
                [_request_error(f"The query exceeds the limit of {self.max_query_bytes} characters", "size")]
            )
        with self._cache_lock:
            cached = self._cache.get(query)
        if cached is None:
            cached = self._prepare(query)
            with self._cache_lock:
                self._cache[query] = cached
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        if isinstance(cached, RequestError):
            raise cached
        return cached

    def is_cached(self, query: str) -> bool:
        """True when ``query`` was prepared (or refused) before and is still in the cache."""
        with self._cache_lock:
            return query in self._cache

    def _limit_error(self, shape: DocumentShape) -> RequestError | None:
        checks = [
            (shape.depth > self.max_depth, f"Query depth {shape.depth} exceeds the limit of {self.max_depth}", "depth"),
            (
                shape.introspection_depth > MAX_INTROSPECTION_DEPTH,
                f"Introspection depth {shape.introspection_depth} exceeds the limit of {MAX_INTROSPECTION_DEPTH}",
                "depth",
            ),
            (
                shape.static_cost is not None and shape.static_cost > self.max_cost,
                f"Query cost {shape.static_cost} exceeds the limit of {self.max_cost}",
                "cost",
            ),
            (
                shape.max_repeats > self.max_field_repeats,
                f"The field {shape.repeated_field!r} is selected {shape.max_repeats} times in one selection "
                f"set (limit {self.max_field_repeats})",
                "repeats",
            ),
            (
                shape.merge_work > self.max_merge_work,
                f"The query repeats fields too much to be checked (merge work {shape.merge_work}, "
                f"limit {self.max_merge_work})",
                "repeats",
            ),
        ]
        for failed, message, reason in checks:
            if failed:
                return RequestError([_request_error(message, reason)])
        return None

    def _prepare(self, query: str) -> PreparedDocument | RequestError:
        try:
            document = parse(query, max_tokens=self.max_tokens)
        except GraphQLError as exc:
            return RequestError([_request_error(f"Syntax error: {self._scrub(exc.message)}", "parse")])
        except RecursionError:
            return RequestError([_request_error("Syntax error: the document is nested too deeply", "parse")])
        unsafe = _unsafe_literal(document)
        if unsafe:
            return RequestError(
                [_request_error("String values must not contain NUL characters or lone surrogates", "text")]
            )
        shape = document_shape(document)
        refused = self._limit_error(shape)
        if refused is not None:
            return refused
        errors = validate(self.schema, document, self._rules, max_errors=20, hide_suggestions=not self.suggestions)
        if errors:
            return RequestError([_request_error(self._scrub(e.message), "validation") for e in errors])
        operations = {
            (d.name.value if d.name else None): d.operation.value
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode)
        }
        return PreparedDocument(document=document, shape=shape, operations=operations)

    def _scrub(self, message: str) -> str:
        return message if self.suggestions else hide_suggestions(message)

    async def prepare_async(self, query: str) -> PreparedDocument:
        """:meth:`prepare`, in a worker thread for a long document not yet cached.

        Parsing and validating a long document takes milliseconds of CPU; in a thread it does not
        hold up other requests on the event loop (at most :data:`OFFLOAD_SLOTS` at once).
        """
        if len(query) < self.offload_chars or len(query) > self.max_query_bytes or self.is_cached(query):
            return self.prepare(query)
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(OFFLOAD_SLOTS))
        async with self._slots[1]:
            return await asyncio.to_thread(self.prepare, query)

    async def run(
        self,
        query: Any,
        variables: Any,
        operation_name: Any,
        context: RequestContext,
    ) -> tuple[int, dict[str, Any]]:
        """Run one operation; returns ``(http_status, response_body)``.

        Request errors give 400 with ``BAD_USER_INPUT``; execution errors give 200 with the
        errors formatted by :meth:`format_error`.
        """
        if not isinstance(query, str) or not query.strip():
            return 400, {"errors": [_request_error("The request must contain a 'query' string", "request")]}
        if variables is not None and not isinstance(variables, dict):
            return 400, {"errors": [_request_error("'variables' must be an object", "request")]}
        if operation_name is not None and not isinstance(operation_name, str):
            return 400, {"errors": [_request_error("'operationName' must be a string", "request")]}
        unsafe = (
            "query"
            if unsafe_text(query)
            else "operationName"
            if operation_name is not None and unsafe_text(operation_name)
            else unsafe_text_path(variables)
        )
        if unsafe is not None:
            # Before anything else: no database stores them, and an echo could not be encoded.
            message = f"{unsafe} must not contain NUL characters or lone surrogates"
            return 400, {"errors": [_request_error(message, "text", field=unsafe)]}
        try:
            prepared = await self.prepare_async(query)
        except RequestError as exc:
            return 400, {"errors": exc.errors}
        cost = query_cost(prepared.document, prepared.shape, variables)
        if cost > self.max_cost:
            error = _request_error(f"Query cost {cost} exceeds the limit of {self.max_cost}", "cost")
            return 400, {"errors": [error]}
        try:
            result = execute_lean(
                self.schema,
                prepared.document,
                context,
                variables,
                operation_name,
                hide_suggestions=not self.suggestions,
            )
            if not isinstance(result, ExecutionResult):
                result = await result
        finally:
            await context.close()
        return self._response(result)

    def _response(self, result: ExecutionResult) -> tuple[int, dict[str, Any]]:
        body: dict[str, Any] = {}
        if result.errors:
            # Errors raised before execution starts (bad variables, unknown operation) have no path;
            # every error raised while resolving a field has one.
            if result.data is None and all(e.path is None for e in result.errors):
                return 400, {"errors": [_request_error(self._scrub(e.message), "variables") for e in result.errors]}
            body["errors"] = [self.format_error(e) for e in result.errors]
        body["data"] = result.data
        return 200, body

    def format_error(self, error: GraphQLError) -> dict[str, Any]:
        """A GraphQL error as JSON with ``extensions.code``; no internal detail unless debug."""
        original = error.original_error
        formatted: dict[str, Any] = {"message": self._scrub(error.message)}
        if error.locations:
            formatted["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
        if error.path:
            formatted["path"] = list(error.path)
        if isinstance(original, ByWayError):
            formatted["message"] = original.message
            formatted["extensions"] = original.to_extensions()
        elif original is None:
            formatted["extensions"] = {"code": BAD_USER_INPUT, **(error.extensions or {})}
        else:
            log.error(
                "unexpected error in %s at %s",
                self.plugin,
                ".".join(map(str, error.path or [])),
                exc_info=(type(original), original, original.__traceback__),
            )
            formatted["message"] = "Internal server error"
            formatted["extensions"] = {"code": INTERNAL}
            if self.debug:
                formatted["extensions"]["exception"] = {
                    "message": f"{type(original).__name__}: {original}",
                    "stacktrace": traceback.format_exception(original),
                }
        return formatted


def _unsafe_literal(document: DocumentNode) -> bool:
    """True when a string literal of the document holds a NUL or a lone surrogate (``"\\u0000"``)."""
    found = False

    class Finder(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
            nonlocal found
            if unsafe_text(node.value):
                found = True
                return BREAK
            return None

    visit(document, Finder())
    return found


def operation_type(prepared: PreparedDocument, operation_name: str | None) -> str | None:
    """``query``, ``mutation`` or ``subscription`` for the operation that would run, if known."""
    if operation_name is None and len(prepared.operations) == 1:
        return next(iter(prepared.operations.values()))
    return prepared.operations.get(operation_name)


def first_error_code(errors: Sequence[Mapping[str, Any]]) -> str:
    """The code of the first error of a response (``INTERNAL`` when it has none)."""
    for error in errors:
        code = (error.get("extensions") or {}).get("code")
        if isinstance(code, str):
            return code
    return INTERNAL
