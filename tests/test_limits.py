"""Static query limits: depth and cost of a parsed document."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from byway.limits import INTROSPECTION_COST, document_shape, query_cost


def shape(query: str) -> tuple[int, int | None]:
    result = document_shape(parse(query))
    return result.depth, result.static_cost


def cost(query: str, variables: dict[str, Any] | None = None) -> int:
    document = parse(query)
    return query_cost(document, document_shape(document), variables)


@pytest.mark.parametrize(
    ("query", "depth", "static_cost"),
    [
        ("{ a }", 1, 1),
        ("{ a b c }", 1, 3),
        ("{ a { b { c } } }", 3, 3),
        ("{ a(first: 10) { b } }", 2, 11),
        ("{ a(first: 10) { b(first: 5) { c } } }", 3, 1 + 10 + 50),
        ("{ a(first: 0) { b } }", 2, 2),  # a non-positive first counts as 1
        ("{ a(first: -5) { b } }", 2, 2),
        ("{ ...F } fragment F on Query { a { b } }", 2, 2),
        ("{ a { ... on T { b { c } } } }", 3, 3),
        # introspection counts: a flat INTROSPECTION_COST per root, plus its fields; its depth apart
        ("{ __schema { types { fields { name } } } a }", 1, INTROSPECTION_COST + 1 + 3 + 1),
        ("query A { a } query B { a { b { c } } }", 3, 3),  # the most expensive operation counts
    ],
)
def test_shape(query: str, depth: int, static_cost: int | None) -> None:
    assert shape(query) == (depth, static_cost)


def test_cost_from_a_variable_is_computed_per_request() -> None:
    query = "query Q($n: Int) { a(first: $n) { b } }"
    assert shape(query) == (2, None)
    assert cost(query, {"n": 100}) == 101
    assert cost(query, {"n": 2}) == 3
    assert cost(query, {}) == 2
    assert cost(query, {"n": "lots"}) == 2


def test_variable_default_counts_when_the_variable_is_omitted() -> None:
    query = "query Q($n: Int = 500) { a(first: $n) { b } }"
    assert cost(query) == 501
    assert cost(query, {}) == 501
    assert cost(query, {"n": 3}) == 4


def test_fragment_cycles_do_not_loop() -> None:
    query = "{ ...F } fragment F on Query { a ...G } fragment G on Query { b ...F }"
    assert shape(query) == (1, 2)


def test_fragment_multiplied_by_the_enclosing_list() -> None:
    query = "{ a(first: 4) { ...F } } fragment F on A { b c }"
    assert shape(query) == (2, 1 + 4 * 2)


def test_introspection_depth_is_counted_apart() -> None:
    result = document_shape(parse("{ __schema { types { fields { type { ofType { name } } } } } a { b } }"))
    assert (result.depth, result.introspection_depth) == (2, 6)


def test_standard_introspection_query_fits_the_default_limits() -> None:
    from graphql import get_introspection_query

    from byway.execution import MAX_FIELD_REPEATS, MAX_MERGE_WORK
    from byway.limits import MAX_INTROSPECTION_DEPTH

    result = document_shape(parse(get_introspection_query(descriptions=True, input_value_deprecation=True)))
    assert result.introspection_depth <= MAX_INTROSPECTION_DEPTH
    assert result.static_cost is not None and result.static_cost < 5000
    assert result.max_repeats <= MAX_FIELD_REPEATS and result.merge_work <= MAX_MERGE_WORK


def test_thousands_of_introspection_aliases_cost_thousands_of_times_more() -> None:
    one = document_shape(parse("{ __schema { types { name } } }")).static_cost
    many = document_shape(parse("{" + " ".join(f"a{i}: __schema {{ types {{ name }} }}" for i in range(2000)) + "}"))
    assert one is not None and many.static_cost == 2000 * one > 5000


def test_repeats_count_fields_of_one_response_name_through_fragments() -> None:
    repeated = document_shape(parse("{" + " me { id }" * 30 + "}"))
    assert (repeated.max_repeats, repeated.repeated_field) == (30, "me")
    aliased = document_shape(parse("{" + " ".join(f"a{i}: me {{ id }}" for i in range(30)) + "}"))
    assert aliased.max_repeats == 1
    fragments = "".join(f" fragment {f} on Query {{ me {{ id }} }}" for f in "AB")
    spread = "{ ...A ...B ... on Query { me { id } } }" + fragments
    assert document_shape(parse(spread)).max_repeats == 3


def test_merge_work_grows_with_repeats_level_by_level() -> None:
    flat = document_shape(parse("{ a b c d }")).merge_work
    nested = document_shape(parse("{" + " a { " + "b " * 10 + "}" * 1 + " a { " + "b " * 10 + "}" + "}")).merge_work
    assert flat == 4
    assert nested == 2 * 2 * (1 + 10 * 10)  # two `a` (counted twice each), each with ten `b` (ten times each)


def test_fragment_diamonds_are_analysed_once_each() -> None:
    # F0 spreads F1 twice, F1 spreads F2 twice, ...: expanding every spread would take 2**40 steps.
    fragments = " ".join(f"fragment F{i} on Q {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
    result = document_shape(parse("{ ...F0 } " + fragments + " fragment F40 on Q { x }"))
    assert result.static_cost == 1  # each fragment is counted once per distinct spread
