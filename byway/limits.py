"""Static query limits: depth and cost, computed on the parsed document.

Cost model: every field costs 1, times the product of the ``first`` arguments of the list fields
above it (a ``first`` given by a variable uses the variable's value). Introspection fields
(``__schema``, ``__type``) are not counted; introspection has its own switch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    value_from_ast_untyped,
)

MULTIPLIER_ARGUMENT = "first"
_INTROSPECTION = {"__schema", "__type"}


@dataclass(frozen=True)
class DocumentShape:
    """What the limits need to know of a document, computed once and cached with it."""

    depth: int
    #: The cost when no ``first`` comes from a variable; None when it depends on variables.
    static_cost: int | None


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _walk_depth(
    selection_set: SelectionSetNode | None, fragments: Mapping[str, FragmentDefinitionNode], seen: frozenset[str]
) -> int:
    if selection_set is None:
        return 0
    deepest = 0
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            if sel.name.value in _INTROSPECTION:
                continue
            deepest = max(deepest, 1 + _walk_depth(sel.selection_set, fragments, seen))
        elif isinstance(sel, InlineFragmentNode):
            deepest = max(deepest, _walk_depth(sel.selection_set, fragments, seen))
        elif isinstance(sel, FragmentSpreadNode):
            name = sel.name.value
            if name in seen or name not in fragments:
                continue  # cycles and unknown fragments are reported by validation
            deepest = max(deepest, _walk_depth(fragments[name].selection_set, fragments, seen | {name}))
    return deepest


def _multiplier(field: FieldNode, variables: Mapping[str, Any] | None) -> tuple[int, bool]:
    """The field's ``first`` value and whether it came from a variable."""
    for arg in field.arguments or ():
        if arg.name.value != MULTIPLIER_ARGUMENT:
            continue
        if isinstance(arg.value, IntValueNode):
            return max(int(arg.value.value), 1), False
        if isinstance(arg.value, VariableNode):
            value = (variables or {}).get(arg.value.name.value)
            return (value if isinstance(value, int) and value > 0 else 1), True
    return 1, False


def _walk_cost(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None,
    factor: int,
    seen: frozenset[str],
) -> tuple[int, bool]:
    if selection_set is None:
        return 0, False
    total, dynamic = 0, False
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            if sel.name.value in _INTROSPECTION:
                continue
            mult, from_var = _multiplier(sel, variables)
            sub, sub_dynamic = _walk_cost(sel.selection_set, fragments, variables, factor * mult, seen)
            total += factor + sub
            dynamic = dynamic or from_var or sub_dynamic
        elif isinstance(sel, InlineFragmentNode):
            sub, sub_dynamic = _walk_cost(sel.selection_set, fragments, variables, factor, seen)
            total, dynamic = total + sub, dynamic or sub_dynamic
        elif isinstance(sel, FragmentSpreadNode):
            name = sel.name.value
            if name in seen or name not in fragments:
                continue
            sub, sub_dynamic = _walk_cost(fragments[name].selection_set, fragments, variables, factor, seen | {name})
            total, dynamic = total + sub, dynamic or sub_dynamic
    return total, dynamic


def _operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def document_shape(document: DocumentNode) -> DocumentShape:
    """Depth and (where it does not depend on variables) cost of the document's operations."""
    fragments = _fragments(document)
    depth, cost, dynamic = 0, 0, False
    for op in _operations(document):
        depth = max(depth, _walk_depth(op.selection_set, fragments, frozenset()))
        op_cost, op_dynamic = _walk_cost(op.selection_set, fragments, None, 1, frozenset())
        cost, dynamic = max(cost, op_cost), dynamic or op_dynamic
    return DocumentShape(depth=depth, static_cost=None if dynamic else cost)


def query_cost(document: DocumentNode, shape: DocumentShape, variables: Mapping[str, Any] | None) -> int:
    """The cost of the document with these variables (cached static cost when it has one)."""
    if shape.static_cost is not None:
        return shape.static_cost
    fragments = _fragments(document)
    return max(
        (
            _walk_cost(op.selection_set, fragments, _with_defaults(op, variables), 1, frozenset())[0]
            for op in _operations(document)
        ),
        default=0,
    )


def _with_defaults(op: OperationDefinitionNode, variables: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The variables as execution will see them: an omitted variable takes its declared default."""
    defaults = {
        d.variable.name.value: value_from_ast_untyped(d.default_value)
        for d in op.variable_definitions or ()
        if d.default_value is not None
    }
    return {**defaults, **variables} if defaults and variables else (defaults or variables)
