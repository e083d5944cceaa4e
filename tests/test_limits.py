"""Static query limits: depth and cost of a parsed document."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from byway.limits import document_shape, query_cost


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
        ("{ __schema { types { fields { name } } } a }", 1, 1),  # introspection is not counted
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
