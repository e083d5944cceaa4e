"""Running GraphQL operations: cached parse and validation, limits, and error formatting.

One :class:`GraphQLExecutor` per plugin. The HTTP endpoint and the in-process transport both call
:meth:`GraphQLExecutor.run`, so an operation gets the same data and the same error codes either way.
"""

from __future__ import annotations

import logging
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
    execute,
    parse,
    specified_rules,
    validate,
)
from graphql.language import OperationDefinitionNode

from byway.context import RequestContext
from byway.declarations import GraphQLApi
from byway.errors import BAD_USER_INPUT, INTERNAL, ByWayError
from byway.fast_execution import LeanExecutor, is_awaitable
from byway.limits import DocumentShape, document_shape, query_cost

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
    ) -> None:
        self.plugin = plugin
        self.schema = schema
        self.max_depth = max_depth
        self.max_cost = max_cost
        self.debug = debug
        self._rules = list(specified_rules)
        if not introspection:
            self._rules.append(NoSchemaIntrospectionCustomRule)
        self._cache: OrderedDict[str, PreparedDocument | RequestError] = OrderedDict()
        self._cache_size = cache_size

    def prepare(self, query: str) -> PreparedDocument:
        """Parse and validate ``query`` once; later calls with the same text hit the cache.

        Raises:
            RequestError: the query does not parse, does not validate, or is too deep.
        """
        cached = self._cache.get(query)
        if cached is None:
            cached = self._prepare(query)
            self._cache[query] = cached
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        if isinstance(cached, RequestError):
            raise cached
        return cached

    def _prepare(self, query: str) -> PreparedDocument | RequestError:
        try:
            document = parse(query)
        except GraphQLError as exc:
            return RequestError([_request_error(f"Syntax error: {exc.message}", "parse")])
        errors = validate(self.schema, document, self._rules)
        if errors:
            return RequestError([_request_error(e.message, "validation") for e in errors])
        shape = document_shape(document)
        if shape.depth > self.max_depth:
            return RequestError(
                [_request_error(f"Query depth {shape.depth} exceeds the limit of {self.max_depth}", "depth")]
            )
        operations = {
            (d.name.value if d.name else None): d.operation.value
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode)
        }
        return PreparedDocument(document=document, shape=shape, operations=operations)

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
        try:
            prepared = self.prepare(query)
        except RequestError as exc:
            return 400, {"errors": exc.errors}
        cost = query_cost(prepared.document, prepared.shape, variables)
        if cost > self.max_cost:
            error = _request_error(f"Query cost {cost} exceeds the limit of {self.max_cost}", "cost")
            return 400, {"errors": [error]}
        try:
            result = execute(
                self.schema,
                prepared.document,
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
                executor_class=LeanExecutor,
                is_awaitable=is_awaitable,
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
                return 400, {"errors": [_request_error(e.message, "variables") for e in result.errors]}
            body["errors"] = [self.format_error(e) for e in result.errors]
        body["data"] = result.data
        return 200, body

    def format_error(self, error: GraphQLError) -> dict[str, Any]:
        """A GraphQL error as JSON with ``extensions.code``; no internal detail unless debug."""
        original = error.original_error
        formatted: dict[str, Any] = {"message": error.message}
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
