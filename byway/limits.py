"""Static query limits, computed on the parsed document BEFORE it is validated.

Validation of a hostile document can cost far more than its parse (the overlapping-fields rule is
quadratic in the number of fields sharing one response name), so the executor checks the shape
first and only validates what is within every limit. Everything here runs in time linear in the
document's size: fragments are analysed once each (memoised), never expanded per spread.

Cost model: every field costs 1, times the product of the ``first`` arguments of the list fields
above it (a ``first`` given by a variable uses the variable's value). Introspection is counted:
each ``__schema``/``__type`` selection costs :data:`INTROSPECTION_COST` on top of its fields,
since its answer is large whatever is asked. Depth is counted for introspection too, against its
own, higher limit (the standard introspection query nests ``ofType`` about ten deep).
"""

from __future__ import annotations

from collections import Counter
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
#: Root fields of introspection.
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
#: What one ``__schema`` or ``__type`` selection costs before its own fields are counted.
INTROSPECTION_COST = 500
#: How deep a document may nest inside introspection (the standard introspection query needs ~14).
MAX_INTROSPECTION_DEPTH = 20
#: How deep the analysis descends at all: deeper documents are refused before being walked further.
_WALK_LIMIT = 64


@dataclass(frozen=True)
class DocumentShape:
    """What the limits need to know of a document, computed once and cached with it."""

    #: The deepest selection outside introspection.
    depth: int
    #: The cost when no ``first`` comes from a variable; None when it depends on variables.
    static_cost: int | None
    #: The deepest selection inside introspection (0 when the document does not introspect).
    introspection_depth: int = 0
    #: The most times one response name is selected in one selection set (fragments merged).
    max_repeats: int = 0
    #: That response name (for the error message).
    repeated_field: str | None = None
    #: An upper bound of the pairs of fields validation compares to check they can be merged.
    merge_work: int = 0


@dataclass(frozen=True)
class _Part:
    """The analysis of one selection set."""

    cost: int = 0
    depth: int = 0
    introspection_depth: int = 0
    dynamic: bool = False
    #: An upper bound of the field comparisons validation's overlapping-fields rule makes.
    work: int = 0
    #: An upper bound of how often one response name is selected in this merged set.
    repeats: int = 0


@dataclass
class _Walk:
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any] | None
    memo: dict[str, _Part]
    max_repeats: int = 0
    repeated_field: str | None = None


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _multiplier(field: FieldNode, variables: Mapping[str, Any] | None) -> tuple[int, bool]:
    """The field's ``first`` value and whether it came from a variable."""
    for arg in field.arguments or ():
        if arg.name.value != MULTIPLIER_ARGUMENT:
            continue
        if isinstance(arg.value, IntValueNode):
            try:
                return max(int(arg.value.value), 1), False
            except ValueError:
                return 1, False
        if isinstance(arg.value, VariableNode):
            value = (variables or {}).get(arg.value.name.value)
            return (value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1), True
    return 1, False


def _flatten(selection_set: SelectionSetNode, fields: list[FieldNode], spreads: dict[str, None]) -> None:
    """The fields of a selection set with its inline fragments merged in, and the fragments it spreads."""
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            fields.append(sel)
        elif isinstance(sel, InlineFragmentNode):
            _flatten(sel.selection_set, fields, spreads)
        elif isinstance(sel, FragmentSpreadNode):
            spreads[sel.name.value] = None


def _analyse(selection_set: SelectionSetNode | None, walk: _Walk, level: int, seen: frozenset[str]) -> _Part:
    """The cost (at factor 1), depths, merge work and repeats of a selection set.

    Repeats are counted conservatively: a response name's count in the merged set is its count
    among the set's own fields plus, for each distinct fragment spread, that fragment's own most
    repeated count. The merge work multiplies these counts along each path, which is what the
    overlapping-fields rule compares (quadratic in repeats, multiplied level by level).
    """
    if selection_set is None:
        return _Part()
    if level > _WALK_LIMIT:
        return _Part(depth=_WALK_LIMIT, introspection_depth=_WALK_LIMIT)
    fields: list[FieldNode] = []
    spreads: dict[str, None] = {}
    _flatten(selection_set, fields, spreads)
    parts: list[_Part] = []
    for name in spreads:
        if name in seen or name not in walk.fragments:
            continue  # cycles and unknown fragments are reported by validation
        if name not in walk.memo:
            walk.memo[name] = _analyse(walk.fragments[name].selection_set, walk, level, seen | {name})
        parts.append(walk.memo[name])
    from_fragments = sum(p.repeats for p in parts)
    counts = Counter((f.alias or f.name).value for f in fields)
    repeats = from_fragments
    if counts:
        name, most = counts.most_common(1)[0]
        repeats += most
        if repeats > walk.max_repeats:
            walk.max_repeats, walk.repeated_field = repeats, name
    cost = depth = intro_depth = work = 0
    dynamic = False
    for field in fields:
        mult, from_var = _multiplier(field, walk.variables)
        sub = _analyse(field.selection_set, walk, level + 1, seen)
        if field.name.value in INTROSPECTION_FIELDS:
            cost += INTROSPECTION_COST + 1 + sub.cost
            intro_depth = max(intro_depth, 1 + max(sub.depth, sub.introspection_depth))
        else:
            cost += 1 + mult * sub.cost
            depth = max(depth, 1 + sub.depth)
            intro_depth = max(intro_depth, sub.introspection_depth)
        dynamic = dynamic or from_var or sub.dynamic
        work += (counts[(field.alias or field.name).value] + from_fragments) * (1 + sub.work)
    for part in parts:
        cost += part.cost
        depth, intro_depth = max(depth, part.depth), max(intro_depth, part.introspection_depth)
        dynamic = dynamic or part.dynamic
        work += max(repeats, 1) * part.work
    return _Part(cost, depth, intro_depth, dynamic, work, repeats)


def _operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def document_shape(document: DocumentNode) -> DocumentShape:
    """Depth, introspection depth, repeats, merge work and (where it does not depend on variables) cost.

    Linear in the size of the document; safe to run on a document that has not been validated.
    """
    walk = _Walk(_fragments(document), None, {})
    total = _Part()
    parts = [_analyse(op.selection_set, walk, 1, frozenset()) for op in _operations(document)]
    # Fragments no operation uses are invalid, but validation must not be the first to walk them.
    for name, fragment in walk.fragments.items():
        if name not in walk.memo:
            walk.memo[name] = _analyse(fragment.selection_set, walk, 1, frozenset({name}))
            parts.append(walk.memo[name])
    for part in parts:
        total = _Part(
            max(total.cost, part.cost),
            max(total.depth, part.depth),
            max(total.introspection_depth, part.introspection_depth),
            total.dynamic or part.dynamic,
            total.work + part.work,
        )
    return DocumentShape(
        depth=total.depth,
        static_cost=None if total.dynamic else total.cost,
        introspection_depth=total.introspection_depth,
        max_repeats=walk.max_repeats,
        repeated_field=walk.repeated_field,
        merge_work=total.work,
    )


def query_cost(document: DocumentNode, shape: DocumentShape, variables: Mapping[str, Any] | None) -> int:
    """The cost of the document with these variables (cached static cost when it has one)."""
    if shape.static_cost is not None:
        return shape.static_cost
    fragments = _fragments(document)
    costs = []
    for op in _operations(document):
        walk = _Walk(fragments, _with_defaults(op, variables), {})
        costs.append(_analyse(op.selection_set, walk, 1, frozenset()).cost)
    return max(costs, default=0)


def _with_defaults(op: OperationDefinitionNode, variables: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The variables as execution will see them: an omitted variable takes its declared default."""
    defaults = {
        d.variable.name.value: value_from_ast_untyped(d.default_value)
        for d in op.variable_definitions or ()
        if d.default_value is not None
    }
    return {**defaults, **variables} if defaults and variables else (defaults or variables)
