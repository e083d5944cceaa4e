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

A query of one root field (the shape of every cross-plugin call) runs without graphql-core's
machinery for several fields (:meth:`LeanExecutor.execute_operation`), its arguments taken from
the variables as they are when each is a variable with a value; :func:`execute_lean` builds the
executor without ``execute``'s wrappers. An object plan's completer is Python written once per
plan (:func:`_completer`), and plans of operations without directives are kept across executions.

Variables take a short path too: when every variable is given a value that graphql-core's
coercion would return unchanged (a ``str`` for ``ID`` or ``String``, an ``int`` in range for
``Int``, a ``bool`` for ``Boolean``, lists of those, nulls where allowed), :meth:`LeanExecutor.build`
uses it as is, with the operation and fragments of the document found once per document. Any
other value, a missing one, a default, an input object or a custom scalar takes graphql-core's
``build``, so coerced values and errors are unchanged (``tests/test_fast_execution.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, TypeGuard, TypeVar

from graphql import (
    BREAK,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLBoolean,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    OperationType,
    Undefined,
    VariableNode,
    assert_valid_schema,
    default_field_resolver,
    default_type_resolver,
    execute,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
    visit,
)
from graphql.execution.collect_fields import FieldDetails, FragmentDetails
from graphql.execution.executor import Executor
from graphql.execution.executor_throwing_on_incremental import ExecutorThrowingOnIncremental
from graphql.execution.get_variable_signature import GraphQLVariableSignature, get_variable_signature
from graphql.execution.values import VariableValues, VariableValueSource, get_argument_values
from graphql.language import Visitor
from graphql.pyutils import Path
from graphql.pyutils import is_awaitable as graphql_is_awaitable

_NEVER_AWAITABLE: frozenset[type] = frozenset({str, int, float, bool, type(None), dict, list, tuple})

#: The attribute :func:`resolved_from` sets on a resolver.
SOURCE_KEY_ATTRIBUTE = "byway_source_key"

#: ``(schema id, type name, field name)`` -> ``(source key, the leaf type's coerce_output_value,
#: the Python type it returns unchanged or None)``, or None when the field needs graphql-core's
#: general path.
_Plan = tuple[str, Callable[[Any], Any], type | None] | None
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
            plan = (source_key, leaf.coerce_output_value, _unchanged_output_type(leaf))
    if len(_plans) < 65536:
        _plans[key] = plan
    return plan


#: Built-in scalars whose output coercion returns a value of this exact type unchanged (Int is
#: not among them: it also checks the range).
_SAME_OUTPUT_SCALARS: dict[int, tuple[type, Callable[[Any], Any]]] = {
    id(scalar): (kind, scalar.coerce_output_value)
    for scalar, kind in ((GraphQLID, str), (GraphQLString, str), (GraphQLBoolean, bool))
}


def _unchanged_output_type(leaf: Any) -> type | None:
    """The Python type whose values ``leaf``'s output coercion returns unchanged, if any."""
    known = _SAME_OUTPUT_SCALARS.get(id(leaf))
    if known is None or leaf.coerce_output_value is not known[1]:
        return None
    return known[0]


def _coerced(source: dict[str, Any], key: str, coerce: Callable[[Any], Any], exact: type | None = None) -> Any:
    """The coerced value of ``source[key]``, or Undefined when the general path must decide."""
    value = source.get(key)
    if exact is not None and type(value) is exact:
        return value
    if value is None or callable(value):
        return Undefined
    try:
        coerced = coerce(value)
    except Exception:
        return Undefined  # the general path raises the located error
    return Undefined if coerced is None else coerced


_Completer = Callable[[list[Any]], "list[dict[str, Any]] | None"]
#: A plan's completer, by the plan's fields (the same fields from another document share it).
_completers: dict[tuple[Any, ...], _Completer] = {}


def _completer(plan: list[Any]) -> _Completer:
    """A function completing a list of items (dicts) by ``plan``, or answering None when one of
    them needs the general path: the loop of :func:`_coerced` over the plan's fields, written out
    once per plan (one dict display per item, no inner loop, no tuple unpacking)."""
    key = tuple(plan)  # the fields themselves (a coerce function compares by identity, and stays alive here)
    found = _completers.get(key)
    if found is not None:
        return found
    names: dict[str, Any] = {"_coerced": _coerced, "Undefined": Undefined}
    lines = ["def complete(items):", "    completed = []", "    append = completed.append", "    for item in items:"]
    lines.append("        if type(item) is not dict:")
    lines.append("            return None")
    for index, (_, source_key, coerce, exact) in enumerate(plan):
        names[f"coerce{index}"] = coerce
        lines.append(f"        value{index} = item.get({source_key!r})")
        if exact is not None:
            names[f"exact{index}"] = exact
            lines.append(f"        if type(value{index}) is not exact{index}:")
            indent = "            "
        else:
            indent = "        "
        lines.append(f"{indent}value{index} = _coerced(item, {source_key!r}, coerce{index})")
        lines.append(f"{indent}if value{index} is Undefined:")
        lines.append(f"{indent}    return None")
    # Names and keys are written with repr(): any string is a literal, never code.
    fields = ", ".join(f"{response_name!r}: value{index}" for index, (response_name, *_) in enumerate(plan))
    lines.append(f"        append({{{fields}}})")
    lines.append("    return completed")
    exec(compile("\n".join(lines), "<byway completer>", "exec"), names)
    function: _Completer = names["complete"]
    if len(_completers) < 4096:
        _completers[key] = function
    return function


def _complete_items(items: list[Any], plan: list[Any]) -> list[dict[str, Any]] | None:
    """Every item (a dict) completed by ``plan``, or None when one of them needs the general path."""
    return _completer(plan)(items)


#: Built-in scalars whose coercion returns a value of this exact type unchanged.
_SAME_VALUE_SCALARS: dict[int, tuple[type, Callable[[Any], Any]]] = {
    id(scalar): (kind, scalar.coerce_input_value)
    for scalar, kind in ((GraphQLID, str), (GraphQLString, str), (GraphQLBoolean, bool), (GraphQLInt, int))
}
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


_Check = Callable[[Any], bool]


def _unchanged_check(type_: Any) -> _Check | None:
    """A test telling whether graphql-core would coerce a value for ``type_`` to that value itself
    (a list to an equal list); None when the type is never checked here (enums, input objects,
    custom scalars, Float): then graphql-core's coercion decides."""
    if isinstance(type_, GraphQLNonNull):
        inner = _unchanged_check(type_.of_type)
        if inner is None:
            return None
        return lambda value: value is not None and inner(value)
    if isinstance(type_, GraphQLList):
        item_type = type_.of_type
        item_kind = _same_value_kind(item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type)
        if item_kind is str or item_kind is bool:  # the common [ID!]: one pass over the items
            allowed = {item_kind} if isinstance(item_type, GraphQLNonNull) else {item_kind, type(None)}
            return lambda value: value is None or (
                type(value) is list  # a single value as a list of one, a tuple...: the general path
                and set(map(type, value)) <= allowed  # the items' exact types, in C
            )
        item_check = _unchanged_check(item_type)
        if item_check is None:
            return None
        return lambda value: value is None or (type(value) is list and all(item_check(item) for item in value))
    kind = _same_value_kind(type_)
    if kind is int:
        return lambda value: value is None or (type(value) is int and _INT_MIN <= value <= _INT_MAX)
    if kind is not None:
        return lambda value: value is None or type(value) is kind
    return None


def _same_value_kind(type_: Any) -> type | None:
    """The Python type of the built-in scalar ``type_`` whose values coercion keeps, if it is one."""
    scalar = _SAME_VALUE_SCALARS.get(id(type_))
    if scalar is None or type_.coerce_input_value is not scalar[1]:
        return None
    return scalar[0]


def _copied(value: Any) -> Any:
    """``value`` with its lists copied, as coercion would give them: a resolver never holds the
    caller's own list (an in-process caller's variables stay its own)."""
    if type(value) is not list:
        return value
    copied = list(value)
    for index, item in enumerate(copied):
        if type(item) is list:
            copied[index] = _copied(item)
    return copied


class _OperationPlan:
    """What ``Executor.build`` finds in a document for one operation name, found once."""

    __slots__ = ("document", "fragment_definitions", "fragments", "operation", "signatures")

    def __init__(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        fragment_definitions: dict[str, FragmentDefinitionNode],
        signatures: list[tuple[GraphQLVariableSignature, bool, _Check | None]],
    ) -> None:
        self.document = document  # kept so that its id is not reused while the plan is cached
        self.operation = operation
        self.fragment_definitions = fragment_definitions
        self.fragments = {name: FragmentDetails(node, None) for name, node in fragment_definitions.items()}
        self.signatures = signatures

    def variables(self, raw: dict[str, Any]) -> VariableValues | None:
        """The coerced variables when every value is used unchanged, else None."""
        sources: dict[str, VariableValueSource] = {}
        coerced: dict[str, Any] = {}
        for signature, has_default, check in self.signatures:
            value = raw.get(signature.name, Undefined)
            if value is Undefined:
                if has_default or isinstance(signature.type, GraphQLNonNull):
                    return None
                sources[signature.name] = VariableValueSource(signature)
                continue
            if check is None or not check(value):
                return None
            sources[signature.name] = VariableValueSource(signature, value)
            coerced[signature.name] = _copied(value)
        return VariableValues(sources, coerced)


_operation_plans: dict[tuple[int, int, str | None], _OperationPlan | None] = {}


def _operation_plan(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> _OperationPlan | None:
    """The document's plan for ``operation_name``; None when ``build`` must see it (no single
    matching operation, fragment variables, a variable type that is not an input type)."""
    key = (id(schema), id(document), operation_name)
    if key in _operation_plans:
        cached = _operation_plans[key]
        if cached is None or cached.document is document:
            return cached
    assert_valid_schema(schema)
    plan: _OperationPlan | None = None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    if operation_name is None:
        chosen = operations if len(operations) == 1 else []
    else:
        chosen = [d for d in operations if d.name is not None and d.name.value == operation_name][-1:]
    if chosen and not any(f.variable_definitions for f in fragments.values()):
        signatures: list[tuple[GraphQLVariableSignature, bool, _Check | None]] = []
        for node in chosen[0].variable_definitions or ():
            signature = get_variable_signature(schema, node)
            if isinstance(signature, GraphQLError):
                signatures = []
                break
            signatures.append((signature, node.default_value is not None, _unchanged_check(signature.type)))
        else:
            plan = _OperationPlan(document, chosen[0], fragments, signatures)
    if len(_operation_plans) >= 4096:
        _operation_plans.clear()
    _operation_plans[key] = plan
    return plan


#: An object's plan: its fields' ``(response name, source key, coerce, exact type)`` and their completer.
_ObjectPlan = tuple[list[Any], _Completer]
#: Object plans of operations without directives, kept across executions (see ``_object_plan``).
_object_plans: dict[tuple[Any, ...], tuple[tuple[Any, ...], _ObjectPlan | None]] = {}
#: ``id(operation)`` -> (the operation, kept alive; whether it and its fragments have no directive).
_directive_free: dict[int, tuple[OperationDefinitionNode, bool]] = {}


def _without_directives(operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]) -> bool:
    """True when neither the operation nor its document's fragments use a directive (``@skip``,
    ``@include``, ``@defer``...): how its fields group then depends on the document alone."""
    found = _directive_free.get(id(operation))
    if found is not None and found[0] is operation:
        return found[1]
    finder = _DirectiveFinder()
    for node in (operation, *fragments.values()):
        visit(node, finder)
    if len(_directive_free) >= 4096:
        _directive_free.clear()
    _directive_free[id(operation)] = (operation, not finder.found)
    return not finder.found


class _DirectiveFinder(Visitor):
    found = False

    def enter_directive(self, *_: Any) -> Any:
        self.found = True
        return BREAK


#: ``(id(schema), id(operation))`` -> (the operation, kept alive; its single root field or None).
_single_roots: dict[tuple[int, int], tuple[OperationDefinitionNode, _SingleRoot | None]] = {}


class _SingleRoot(NamedTuple):
    """The one root field of a query without directives: what ``execute_operation`` collects."""

    root_type: GraphQLObjectType
    response_name: str
    field_details_list: list[FieldDetails]
    field: GraphQLField


def _single_root(executor: Executor[Any]) -> _SingleRoot | None:
    """The executor's operation as one root field, found once per operation; None when it is not
    a query, has a directive, selects several root fields, a fragment or a meta field."""
    operation = executor.operation
    key = (id(executor.schema), id(operation))
    found = _single_roots.get(key)
    if found is not None and found[0] is operation:
        return found[1]
    root: _SingleRoot | None = None
    selections = operation.selection_set.selections
    root_type = executor.schema.query_type
    if (
        operation.operation is OperationType.QUERY
        and root_type is not None
        and len(selections) == 1
        and isinstance(selections[0], FieldNode)
        and not selections[0].name.value.startswith("__")
        and _without_directives(operation, executor.fragment_definitions)
    ):
        node = selections[0]
        field = root_type.fields.get(node.name.value)
        if field is not None:
            response_name = node.alias.value if node.alias else node.name.value
            root = _SingleRoot(root_type, response_name, [FieldDetails(node, None)], field)
    if len(_single_roots) >= 4096:
        _single_roots.clear()
    _single_roots[key] = (operation, root)
    return root


#: ``id(field node)`` -> (the node, kept alive; its arguments as ``(name, variable, non-null)``,
#: or None when one is not a variable or an argument it leaves out has a default or is required).
_variable_arguments: dict[int, tuple[FieldNode, list[tuple[str, str, bool]] | None]] = {}


def _arguments_of_variables(field: GraphQLField, node: FieldNode, coerced: dict[str, Any]) -> dict[str, Any] | None:
    """The field's arguments when each is a variable with a value (``f(ids: $ids)``): exactly
    what ``get_argument_values`` gives then, the variables' coerced values; None for anything else
    (a literal, a missing or null variable, an argument left out that has a default or is required),
    which graphql-core's ``get_argument_values`` decides and refuses as it does."""
    found = _variable_arguments.get(id(node))
    if found is None or found[0] is not node:
        plan: list[tuple[str, str, bool]] | None = []
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        for name, argument in field.args.items():
            value = given.get(name)
            if isinstance(value, VariableNode):
                plan.append((argument.out_name or name, value.name.value, is_non_null_type(argument.type)))  # type: ignore[union-attr]
            elif value is not None or is_non_null_type(argument.type) or argument.default_value is not Undefined:
                plan = None
            elif argument.default is not None:
                plan = None
            if plan is None:
                break
        if len(_variable_arguments) >= 4096:
            _variable_arguments.clear()
        found = _variable_arguments[id(node)] = (node, plan)
    arguments: dict[str, Any] = {}
    for out_name, variable, non_null in found[1] or ():
        value = coerced.get(variable, Undefined)
        if value is Undefined or (value is None and non_null):
            return None
        arguments[out_name] = value
    return arguments if found[1] is not None else None


class LeanExecutor(ExecutorThrowingOnIncremental):
    """graphql-core's executor with the plain-leaf short path (see the module docstring).

    Objects whose selected fields are all plain leaves (``{ courseId enrolled }`` of each of 50
    list items) are built in one step, without the per-field machinery; a list of such objects
    (all dicts) in one loop, without the per-item completion (and its error paths, which only a
    bad item needs: then the whole list takes graphql-core's path).
    """

    @classmethod
    def build(
        cls,
        schema: GraphQLSchema,
        document: DocumentNode,
        root_value: Any = None,
        context_value: Any = None,
        raw_variable_values: dict[str, Any] | None = None,
        operation_name: str | None = None,
        field_resolver: Any = None,
        type_resolver: Any = None,
        subscribe_field_resolver: Any = None,
        max_coercion_errors: int = 50,
        enable_early_execution: bool = False,
        middleware: Any = None,
        is_awaitable: Any = None,
        is_async_iterable: Any = None,
        hide_suggestions: bool = False,
        abort_signal: Any = None,
        hooks: Any = None,
        **custom_args: Any,
    ) -> list[GraphQLError] | Executor[Any]:
        """graphql-core's ``build``, skipping the search of the document and the coercion of
        variables when the values are used unchanged (see the module docstring)."""
        if middleware is None:
            plan = _operation_plan(schema, document, operation_name)
            variables = plan.variables(raw_variable_values or {}) if plan is not None else None
            if plan is not None and variables is not None:
                return cls(
                    schema,
                    plan.fragment_definitions,
                    plan.fragments,
                    root_value,
                    context_value,
                    plan.operation,
                    variables,
                    field_resolver or default_field_resolver,
                    type_resolver or default_type_resolver,
                    subscribe_field_resolver or default_field_resolver,
                    enable_early_execution,
                    None,
                    is_awaitable,
                    is_async_iterable,
                    hide_suggestions=hide_suggestions,
                    abort_signal=abort_signal,
                    hooks=hooks,
                    **custom_args,
                )
        return super().build(
            schema,
            document,
            root_value,
            context_value,
            raw_variable_values,
            operation_name,
            field_resolver,
            type_resolver,
            subscribe_field_resolver,
            max_coercion_errors,
            enable_early_execution,
            middleware,
            is_awaitable,
            is_async_iterable,
            hide_suggestions,
            abort_signal,
            hooks,
            **custom_args,
        )

    def execute_operation(self, serially: bool | None = None) -> Any:
        """graphql-core's ``execute_operation``; a query of one root field (the shape of every
        cross-plugin call) is run here without the machinery for several fields: the same
        ``execute_field`` steps (resolve info, arguments, resolver, completion) and the same
        error handling (``handle_field_error``: a non-null root field's error nulls ``data``),
        in one coroutine instead of five."""
        root = None if serially or self.abort_signal is not None or self.hooks is not None else _single_root(self)
        if root is None or not self._plain():
            return super().execute_operation(serially)
        root_type, response_name, field_details_list, field = root
        node = field_details_list[0].node
        path = Path(None, response_name, root_type.name)
        info = self.build_resolve_info(field, [node], root_type, path)
        try:
            args = _arguments_of_variables(field, node, self.variable_values.coerced) if field.args else {}
            if args is None:
                args = get_argument_values(field, node, self.variable_values, None, self.hide_suggestions)
            result = (field.resolve or self.field_resolver)(self.root_value, info, **args)
            if self.is_awaitable(result):
                return self._single_root_awaited(root, info, path, result)
            completed = self.complete_value(field.type, field_details_list, info, path, result, None)
            if self.is_awaitable(completed):
                return self._single_root_awaited(root, info, path, None, completed)
        except Exception as raw_error:
            return self._single_root_error(root, path, raw_error)
        return self.build_response({response_name: completed})

    async def _single_root_awaited(
        self, root: _SingleRoot, info: Any, path: Path, result: Any, completing: Any = None
    ) -> ExecutionResult:
        try:
            if completing is None:
                resolved = await result
                completing = self.complete_value(root.field.type, root.field_details_list, info, path, resolved, None)
            completed = await completing if self.is_awaitable(completing) else completing
        except Exception as raw_error:
            return self._single_root_error(root, path, raw_error)
        return self.build_response({root.response_name: completed})  # type: ignore[return-value]

    def _single_root_error(self, root: _SingleRoot, path: Path, raw_error: Exception) -> ExecutionResult:
        try:
            self.handle_field_error(raw_error, root.field.type, root.field_details_list, path)
        except GraphQLError as error:  # a non-null root field: the whole data is null
            self.collected_errors.add(error, None)
            return self.build_response(None)  # type: ignore[return-value]
        return self.build_response({root.response_name: None})  # type: ignore[return-value]

    def _plain(self) -> bool:
        return self.field_resolver is default_field_resolver and not self.middleware_manager

    def _object_plan(self, return_type: GraphQLObjectType, field_details_list: Any) -> _ObjectPlan | None:
        """``([(response name, source key, coerce, exact type), ...], completer)`` when every
        selected field is a plain leaf, else None. Kept across executions for an operation
        without directives (its fields are then grouped the same whatever the variables), else
        memoized for this execution like ``collect_subfields``."""
        nodes = tuple(details.node for details in field_details_list)
        if _without_directives(self.operation, self.fragment_definitions):
            key: tuple[Any, ...] = (id(self.schema), id(return_type), *map(id, nodes))
            cache = _object_plans
        else:
            key = (id(return_type), *map(id, nodes))
            cache = self.__dict__.setdefault("_byway_object_plans", {})
        found = cache.get(key)
        if found is not None:
            return found[1]
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
        object_plan = (plan, _completer(plan)) if plan else None
        if cache is _object_plans and len(cache) >= 4096:
            cache.clear()
        cache[key] = (nodes, object_plan)  # the nodes are kept alive so that their ids stay unique
        return object_plan

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
            if plan is not None:
                completed = plan[1]([result])
                if completed is not None:
                    return completed[0]
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
                if plan is not None:
                    completed = plan[1](result)
                    if completed is not None:
                        return completed
            elif is_leaf_type(inner):
                # A list of ids or names, each of the type its coercion returns unchanged (nulls
                # where the items may be null): a copy of the list, checked in one pass in C.
                exact = _unchanged_output_type(inner)
                if exact is not None and self.get_stream_usage(field_details_list, path) is None:
                    allowed = {exact} if item_type is not inner else {exact, type(None)}
                    if set(map(type, result)) <= allowed:
                        return list(result)
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


def execute_lean(
    schema: GraphQLSchema,
    document: DocumentNode,
    context_value: Any,
    variable_values: dict[str, Any] | None,
    operation_name: str | None,
    *,
    hide_suggestions: bool = False,
) -> ExecutionResult | Awaitable[ExecutionResult]:
    """graphql-core's ``execute`` with :class:`LeanExecutor`, without its wrappers (the check
    for incremental delivery is made once per schema: with ``@defer`` or ``@stream`` defined,
    graphql-core's ``execute`` runs and refuses it)."""
    if _incremental(schema):
        return execute(
            schema,
            document,
            context_value=context_value,
            variable_values=variable_values,
            operation_name=operation_name,
            hide_suggestions=hide_suggestions,
            executor_class=LeanExecutor,
            is_awaitable=is_awaitable,
        )
    executor = LeanExecutor.build(
        schema,
        document,
        None,
        context_value,
        variable_values,
        operation_name,
        hide_suggestions=hide_suggestions,
        is_awaitable=is_awaitable,
    )
    if isinstance(executor, list):
        return ExecutionResult(None, errors=executor)
    return executor.execute_operation()  # type: ignore[return-value]


_incremental_schemas: dict[int, tuple[GraphQLSchema, bool]] = {}


def _incremental(schema: GraphQLSchema) -> bool:
    found = _incremental_schemas.get(id(schema))
    if found is None or found[0] is not schema:
        found = (schema, bool(schema.get_directive("defer") or schema.get_directive("stream")))
        _incremental_schemas[id(schema)] = found
    return found[1]
