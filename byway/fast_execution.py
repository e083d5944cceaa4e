"""graphql-core execution with a short path for plain leaf fields, the bulk of a wide list.

A page of 50 courses with 4 fields each is 200 fields; graphql-core completes every one through
the general machinery: a ``GraphQLResolveInfo``, the default resolver, the awaitable checks, the
non-null, list, leaf and abstract-type tests, each costing a few microseconds. For the commonest
field of all (no resolver of its own, no arguments, a scalar or enum type, read from a ``dict``)
:class:`LeanExecutor` looks the value up and coerces it directly, exactly as the default resolver
and ``complete_leaf_value`` would. Anything else, and any value that is null, callable or fails
to coerce, goes through graphql-core's own path, so results and errors are unchanged.

:func:`is_awaitable` answers for the plain values resolvers return (str, int, dict, list, ...)
without graphql-core's general checks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeGuard, TypeVar

from graphql import (
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    default_field_resolver,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.executor_throwing_on_incremental import ExecutorThrowingOnIncremental
from graphql.pyutils import is_awaitable as graphql_is_awaitable

_NEVER_AWAITABLE: frozenset[type] = frozenset({str, int, float, bool, type(None), dict, list, tuple})

#: The attribute :func:`resolved_from` sets on a resolver.
SOURCE_KEY_ATTRIBUTE = "byway_source_key"

#: ``(schema id, type name, field name)`` -> ``(source key, the leaf type's coerce_output_value)``,
#: or None when the field needs graphql-core's general path.
_Plan = tuple[str, Callable[[Any], Any]] | None
_plans: dict[tuple[int, str, str], _Plan] = {}

F = TypeVar("F", bound=Callable[..., Any])


def resolved_from(key: str) -> Callable[[F], F]:
    """Mark a leaf field's resolver as answered by ``source[key]`` whenever the source (a dict)
    holds a value there: the executor then reads it directly, as for a field without a resolver,
    and calls the resolver only when the key is missing (or null).

    For values that a list resolver computes for all its items at once (``Course.isEnrolled``
    after one batched call); the resolver must answer what the key would hold.
    """

    def mark(resolver: F) -> F:
        setattr(resolver, SOURCE_KEY_ATTRIBUTE, key)
        return resolver

    return mark


def is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    """graphql-core's ``is_awaitable``, short-cut for plain values."""
    if type(value) in _NEVER_AWAITABLE:
        return False
    return graphql_is_awaitable(value)


def _plan(schema: GraphQLSchema, parent_type: GraphQLObjectType, field_name: str) -> _Plan:
    key = (id(schema), parent_type.name, field_name)
    try:
        return _plans[key]
    except KeyError:
        pass
    plan: _Plan = None
    field = schema.get_field(parent_type, field_name)
    if field is not None and not field.args:
        source_key = field_name if field.resolve is None else getattr(field.resolve, SOURCE_KEY_ATTRIBUTE, None)
        leaf = field.type.of_type if is_non_null_type(field.type) else field.type
        if source_key is not None and is_leaf_type(leaf):
            plan = (source_key, leaf.coerce_output_value)
    if len(_plans) < 65536:
        _plans[key] = plan
    return plan


def _coerced(source: dict[str, Any], key: str, coerce: Callable[[Any], Any]) -> Any:
    """The coerced value of ``source[key]``, or Undefined when the general path must decide."""
    value = source.get(key)
    if value is None or callable(value):
        return Undefined
    try:
        coerced = coerce(value)
    except Exception:
        return Undefined  # the general path raises the located error
    return Undefined if coerced is None else coerced


def _complete_items(items: list[Any], plan: list[Any]) -> list[dict[str, Any]] | None:
    """Every item (a dict) completed by ``plan``, or None when one of them needs the general path."""
    completed: list[dict[str, Any]] = []
    for item in items:
        if type(item) is not dict:
            return None
        obj: dict[str, Any] = {}
        for response_name, key, coerce in plan:
            value = _coerced(item, key, coerce)
            if value is Undefined:
                return None
            obj[response_name] = value
        completed.append(obj)
    return completed


class LeanExecutor(ExecutorThrowingOnIncremental):
    """graphql-core's executor with the plain-leaf short path (see the module docstring).

    Objects whose selected fields are all plain leaves (``{ courseId enrolled }`` of each of 50
    list items) are built in one step, without the per-field machinery; a list of such objects
    (all dicts) in one loop, without the per-item completion (and its error paths, which only a
    bad item needs: then the whole list takes graphql-core's path).
    """

    def _plain(self) -> bool:
        return self.field_resolver is default_field_resolver and not self.middleware_manager

    def _object_plan(self, return_type: GraphQLObjectType, field_details_list: Any) -> list[Any] | None:
        """``[(response name, source key, coerce), ...]`` when every selected field is a plain
        leaf, else None; memoized for this execution like ``collect_subfields``."""
        plans: dict[Any, Any] = self.__dict__.setdefault("_byway_object_plans", {})
        key = (return_type, id(field_details_list))
        if key in plans:
            return plans[key][1]  # type: ignore[no-any-return]
        grouped, new_defer_usages, _ = self.collect_subfields(return_type, field_details_list)
        plan: list[Any] | None = []
        if new_defer_usages or return_type.is_type_of:
            plan = None
        else:
            for response_name, details in grouped.items():
                node = details[0].node
                leaf = None
                if not any(d.node.arguments for d in details):
                    leaf = _plan(self.schema, return_type, node.name.value)
                if leaf is None:
                    plan = None
                    break
                plan.append((response_name, *leaf))  # type: ignore[union-attr]
        plans[key] = (field_details_list, plan)  # the list is kept alive so that its id stays unique
        return plan

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        if type(result) is dict and self._plain():
            plan = self._object_plan(return_type, field_details_list)
            if plan:
                completed: dict[str, Any] = {}
                for response_name, key, coerce in plan:
                    value = _coerced(result, key, coerce)
                    if value is Undefined:
                        break
                    completed[response_name] = value
                else:
                    return completed
        return super().complete_object_value(return_type, field_details_list, info, path, result, position_context)

    def complete_list_value(
        self,
        return_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        if type(result) is list and self._plain():
            item_type = return_type.of_type
            inner = item_type.of_type if is_non_null_type(item_type) else item_type
            if (
                is_object_type(inner)
                and not inner.is_type_of
                and self.get_stream_usage(field_details_list, path) is None
            ):
                plan = self._object_plan(inner, field_details_list)
                if plan:
                    completed = _complete_items(result, plan)
                    if completed is not None:
                        return completed
        return super().complete_list_value(return_type, field_details_list, info, path, result, position_context)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        if type(source) is dict and self._plain():
            node = field_details_list[0].node
            if not node.arguments:
                plan = _plan(self.schema, parent_type, node.name.value)
                if plan is not None:
                    value = _coerced(source, *plan)
                    if value is not Undefined:
                        return value
        return super().execute_field(parent_type, source, field_details_list, path, position_context)
