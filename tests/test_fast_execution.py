"""byway.fast_execution: the short path for plain leaves gives exactly graphql-core's results and errors."""

from __future__ import annotations

from typing import Any

import pytest
from ariadne import ObjectType, QueryType, make_executable_schema
from graphql import ExecutionResult, execute, parse
from graphql.execution.executor_throwing_on_incremental import ExecutorThrowingOnIncremental

from byway.fast_execution import LeanExecutor, execute_lean, is_awaitable, resolved_from

SDL = """
type Query {
  items: [Item!]!
  maybe: [Item]!
  one: Item
  echo(id: ID, ids: [ID!], s: String, i: Int, b: Boolean, k: Kind, f: Float, in: Filter): String
  paged(first: Int = 10, after: ID): String
  boom: String
  boomRequired: String!
  boomLater: Item
  boomLaterRequired: [Item!]!
  ids: [ID!]!
  names: [String]
  flags: [Boolean!]
  grid: [[ID!]!]
}
input Filter { word: String! limit: Int = 3 }
type Item {
  id: ID!
  n: Int!
  name: String
  shout: String!
  cached: Int!
  kind: Kind
  twice(x: Int!): Int!
}
enum Kind { A B }
"""

calls: list[str] = []
SOURCES: dict[str, Any] = {}

query = QueryType()
item = ObjectType("Item")


@query.field("items")
def resolve_items(*_: Any) -> Any:
    return SOURCES["items"]


@query.field("maybe")
def resolve_maybe(*_: Any) -> Any:
    return SOURCES["items"]


@query.field("one")
async def resolve_one(*_: Any) -> Any:
    return SOURCES["items"][0]


@query.field("echo")
def resolve_echo(*_: Any, **args: Any) -> str:
    return repr(sorted(args.items()))


@query.field("paged")
def resolve_paged(*_: Any, **args: Any) -> str:
    return repr(sorted(args.items()))


@query.field("ids")
@query.field("names")
@query.field("flags")
@query.field("grid")
def resolve_leaves(*_: Any) -> Any:
    return SOURCES["leaves"]


@query.field("boom")
@query.field("boomRequired")
def resolve_boom(*_: Any) -> Any:
    raise ValueError("boom")


@query.field("boomLater")
@query.field("boomLaterRequired")
async def resolve_boom_later(*_: Any) -> Any:
    raise ValueError("boom later")


@item.field("shout")
def resolve_shout(obj: Any, _info: Any) -> str:
    return str(obj["name"]).upper()


@item.field("cached")
@resolved_from("_cached")
def resolve_cached(obj: Any, _info: Any) -> int:
    calls.append(obj["id"])
    return 100 + int(obj["n"])


@item.field("twice")
def resolve_twice(obj: Any, _info: Any, x: int) -> int:
    return int(obj["n"]) * x


schema = make_executable_schema(SDL, query, item)


def both(document: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The formatted result with the lean executor and with graphql-core's own (and the same
    through ``execute_lean``, the executor's entry point)."""
    results = []
    for executor in (LeanExecutor, ExecutorThrowingOnIncremental):
        result = execute(schema, parse(document), executor_class=executor, is_awaitable=is_awaitable)
        assert isinstance(result, ExecutionResult)
        results.append(result.formatted)
    lean = execute_lean(schema, parse(document), None, None, None)
    assert isinstance(lean, ExecutionResult) and lean.formatted == results[0]
    return results[0], results[1]


async def both_async(document: str) -> tuple[dict[str, Any], dict[str, Any]]:
    results = []
    for run in (
        lambda: execute(schema, parse(document), executor_class=LeanExecutor, is_awaitable=is_awaitable),
        lambda: execute_lean(schema, parse(document), None, None, None),
        lambda: execute(schema, parse(document), executor_class=ExecutorThrowingOnIncremental),
    ):
        result = run()
        if not isinstance(result, ExecutionResult):
            result = await result
        results.append(result.formatted)
    assert results[1] == results[0]
    return results[0], results[2]


def items(*rows: dict[str, Any]) -> None:
    SOURCES["items"] = list(rows)


def test_plain_fields_and_resolvers_mixed() -> None:
    items({"id": 1, "n": 2, "name": "a", "kind": "A"}, {"id": "x", "n": 3.0, "name": None, "kind": "B"})
    lean, stock = both("{ items { id n name kind shout twice(x: 3) alias: n } }")
    assert lean == stock
    assert lean["data"]["items"][0] == {
        "id": "1",
        "n": 2,
        "name": "a",
        "kind": "A",
        "shout": "A",
        "twice": 6,
        "alias": 2,
    }
    assert lean["data"]["items"][1]["name"] is None and lean["data"]["items"][1]["n"] == 3


@pytest.mark.parametrize(
    "row",
    [
        {"id": 1, "n": None, "name": "a"},  # null in a non-null field
        {"id": 1, "n": "three", "name": "a"},  # not an Int
        {"id": 1, "n": 2**40, "name": "a"},  # out of Int's range
        {"id": 1, "n": 2, "name": object()},  # not a String
        {"id": None, "n": 2, "name": "a"},
        {"id": 1, "name": "a"},  # missing key
    ],
)
def test_bad_values_give_graphql_cores_errors(row: dict[str, Any]) -> None:
    items({"id": 7, "n": 1, "name": "ok"}, row)
    for document in ("{ items { id n name } }", "{ maybe { id n name } }"):
        lean, stock = both(document)
        assert lean == stock
        assert lean["errors"]


@pytest.mark.parametrize(
    "leaves",
    [
        ["a", "b", "c"],
        [],
        ["a", None, "c"],  # null in [ID!]!: an error; in [String]: a null
        ["a", 7, "c"],  # ID and String coerce an int to text
        [True, False],  # Boolean's own; text for ID and String
        [True, 1],  # 1 is not a Boolean
        ("a", "b"),  # a tuple, as graphql-core iterates it
        "ab",  # a string where a list is due
        [["a"], ["b"]],
        None,
    ],
)
def test_lists_of_leaves_give_graphql_cores_values_and_errors(leaves: Any) -> None:
    SOURCES["leaves"] = leaves
    for document in ("{ ids }", "{ names }", "{ flags }", "{ grid }", "{ names ids }"):
        lean, stock = both(document)
        assert lean == stock, document


def test_a_list_of_leaves_is_a_copy_without_graphql_cores_completion(monkeypatch: pytest.MonkeyPatch) -> None:
    general: list[Any] = []
    complete_list_value = ExecutorThrowingOnIncremental.complete_list_value

    def counted(self: Any, *args: Any) -> Any:
        general.append(args[-2])
        return complete_list_value(self, *args)

    monkeypatch.setattr(ExecutorThrowingOnIncremental, "complete_list_value", counted)
    SOURCES["leaves"] = ["a", "b"]
    result = execute_lean(schema, parse("{ ids names }"), None, None, None)
    assert isinstance(result, ExecutionResult) and result.data == {"ids": ["a", "b"], "names": ["a", "b"]}
    assert result.data["ids"] is not SOURCES["leaves"] and general == []
    SOURCES["leaves"] = ["a", 7]
    result = execute_lean(schema, parse("{ ids }"), None, None, None)
    assert isinstance(result, ExecutionResult) and result.data == {"ids": ["a", "7"]}
    assert general == [["a", 7]]  # an int to coerce: graphql-core's path


def test_callable_values_are_called_as_by_the_default_resolver() -> None:
    items({"id": 1, "n": lambda info: 5, "name": "a"})
    lean, stock = both("{ items { id n } }")
    assert lean == stock == {"data": {"items": [{"id": "1", "n": 5}]}}


def test_bad_enum_values_and_non_dict_sources() -> None:
    class Row:
        id = 4
        n = 8
        name = "obj"
        kind = "A"

    items({"id": 1, "n": 1, "name": "a", "kind": "C"}, Row())  # type: ignore[arg-type]
    lean, stock = both("{ maybe { id n name kind } }")
    assert lean == stock
    assert lean["data"]["maybe"][1] == {"id": "4", "n": 8, "name": "obj", "kind": "A"}


def test_resolved_from_reads_the_key_and_calls_the_resolver_only_without_it() -> None:
    # The contract: the key holds what the resolver would answer.
    items({"id": "a", "n": 1, "_cached": 101}, {"id": "b", "n": 2})
    calls.clear()
    lean, stock = both("{ items { id cached } }")
    assert lean == stock == {"data": {"items": [{"id": "a", "cached": 101}, {"id": "b", "cached": 102}]}}
    # graphql-core's own executor calls the resolver for both; the lean one only for "b" (run
    # twice by both(): through graphql-core's execute, then through execute_lean).
    assert calls == ["b", "a", "b", "b"]


async def test_async_parents_and_introspection_fields() -> None:
    items({"id": 1, "n": 2, "name": "a"})
    lean, stock = await both_async("{ one { __typename id n name shout } }")
    assert lean == stock == {"data": {"one": {"__typename": "Item", "id": "1", "n": 2, "name": "a", "shout": "A"}}}


def test_is_awaitable() -> None:
    async def coroutine() -> None:
        return None

    pending = coroutine()
    assert is_awaitable(pending)
    pending.close()
    assert not any(is_awaitable(v) for v in ("s", 1, 1.5, True, None, {}, [], ()))


ECHO = """
query Echo($id: ID, $ids: [ID!], $s: String, $i: Int, $b: Boolean, $k: Kind, $f: Float, $in: Filter) {
  echo(id: $id, ids: $ids, s: $s, i: $i, b: $b, k: $k, f: $f, in: $in)
}
"""
ECHO_REQUIRED = "query Req($ids: [ID!]!, $n: Int! = 4) { echo(ids: $ids, i: $n) }"


def run_both(document: str, variables: dict[str, Any], operation_name: str | None = None) -> list[dict[str, Any]]:
    parsed = parse(document)
    results = []
    for executor in (LeanExecutor, ExecutorThrowingOnIncremental):
        result = execute(
            schema,
            parsed,
            variable_values=variables,
            operation_name=operation_name,
            executor_class=executor,
            is_awaitable=is_awaitable,
        )
        assert isinstance(result, ExecutionResult)
        results.append(result.formatted)
    return results


@pytest.mark.parametrize(
    "variables",
    [
        {},
        {"id": "c1", "ids": ["a", "b"], "s": "text", "i": 7, "b": False},
        {"id": None, "ids": None, "s": None, "i": None, "b": None},
        {"ids": []},
        {"i": 2**31 - 1},
        # values graphql-core converts or refuses: the general path decides, with its errors
        {"id": 12},
        {"ids": "single"},
        {"ids": ["a", None]},
        {"ids": ("a", "b")},
        {"i": 2**31},
        {"i": True},
        {"i": 1.0},
        {"b": 1},
        {"s": 5},
        {"k": "A"},
        {"k": "C"},
        {"f": 1},
        {"in": {"word": "w"}},
        {"in": {"limit": 1}},
        {"unknown": 1},
    ],
)
def test_variables_give_graphql_cores_values_and_errors(variables: dict[str, Any]) -> None:
    lean, stock = run_both(ECHO, variables)
    assert lean == stock


@pytest.mark.parametrize("variables", [{"ids": ["x"]}, {"ids": ["x"], "n": 9}, {}, {"ids": None}, {"n": 1}])
def test_required_variables_and_defaults(variables: dict[str, Any]) -> None:
    lean, stock = run_both(ECHO_REQUIRED, variables)
    assert lean == stock


def test_operation_names_choose_as_graphql_core_does() -> None:
    two = ECHO_REQUIRED + ' query Other { echo(s: "other") }'
    for name in (None, "Req", "Other", "Missing"):
        lean, stock = run_both(two, {"ids": ["a"]}, name)
        assert lean == stock
    assert run_both(two, {"ids": ["a"]}, "Other")[0] == {"data": {"echo": "[('s', 'other')]"}}


def test_values_used_unchanged_skip_coercion_and_others_do_not() -> None:
    from byway.fast_execution import _operation_plan

    parsed = parse(ECHO)
    plan = _operation_plan(schema, parsed, None)
    assert plan is not None and _operation_plan(schema, parsed, None) is plan  # found once
    given = {"ids": ["a", "b"], "i": 3}
    values = plan.variables(given)
    assert values is not None and values.coerced == given and values.coerced["ids"] is not given["ids"]
    assert "s" in values.sources and "s" not in values.coerced  # omitted nullable: no value
    for refused in ({"id": 12}, {"ids": ("a",)}, {"k": "A"}, {"in": {"word": "w"}}, {"f": 1.5}):
        assert plan.variables(refused) is None
    required = _operation_plan(schema, parse(ECHO_REQUIRED), None)
    assert required is not None
    assert required.variables({"ids": ["a"]}) is None  # $n has a default: graphql-core applies it


def test_object_plans_follow_skip_and_include_whatever_ran_before() -> None:
    """Plans of an operation without directives are kept across executions; with a directive the
    grouping depends on the variables, so the same document answers each set of values rightly."""
    items({"id": 1, "n": 2, "name": "a"}, {"id": 2, "n": 3, "name": "b"})
    document = parse("query Q($s: Boolean!) { items { id n @skip(if: $s) name @include(if: $s) } }")
    for skip, fields in ((False, ["id", "n"]), (True, ["id", "name"]), (False, ["id", "n"])):
        results = [
            execute(schema, document, variable_values={"s": skip}, executor_class=cls, is_awaitable=is_awaitable)
            for cls in (LeanExecutor, ExecutorThrowingOnIncremental)
        ]
        lean, stock = (r.formatted for r in results if isinstance(r, ExecutionResult))
        assert lean == stock
        assert [list(row) for row in lean["data"]["items"]] == [fields, fields]
    static = parse("{ items { id n } }")  # no directive: one plan, kept across executions
    for _ in range(2):
        lean, stock = both("{ items { id n } }")
        assert lean == stock
    result = execute(schema, static, executor_class=LeanExecutor, is_awaitable=is_awaitable)
    assert isinstance(result, ExecutionResult) and result.data == {"items": [{"id": "1", "n": 2}, {"id": "2", "n": 3}]}


def test_completers_take_any_key_as_a_literal() -> None:
    """A completer is Python written per plan: keys and names are repr()'d literals, never code."""
    from graphql import GraphQLID, GraphQLString

    from byway.fast_execution import _completer

    hostile = "x'] or __import__('os').system('false') or ['"
    plan = [
        ("a", hostile, GraphQLString.coerce_output_value, str),
        ('b"\n', "k\\", GraphQLID.coerce_output_value, None),
    ]
    complete = _completer(plan)
    assert complete([{hostile: "v", "k\\": 7}]) == [{"a": "v", 'b"\n': "7"}]
    assert complete([{hostile: None, "k\\": 7}]) is None  # null: the general path decides
    assert complete(["not a dict"]) is None
    assert _completer(list(plan)) is complete  # one completer per plan


@pytest.mark.parametrize(
    "document",
    [
        "{ boom }",
        "{ boomRequired }",
        "{ boomLater { id } }",
        "{ boomLaterRequired { id } }",
        "{ alias: boomRequired }",
        "{ one { id n } }",
        "{ one { id shout } }",
        "{ maybe { id } }",
        "{ echo(s: \"x\", i: 3) }",
        "{ a: echo(i: 1) b: echo(i: 2) }",  # two root fields: graphql-core's own path
        "{ __typename }",
        "{ items { ...F } } fragment F on Item { id n }",
    ],
)
async def test_one_root_field_gives_graphql_cores_data_and_errors(document: str) -> None:
    """A query of one root field runs without graphql-core's several-fields machinery: a resolver's
    error, sync or awaited, in a nullable or non-null root field, gives graphql-core's result."""
    items({"id": 1, "n": 2, "name": "a"}, {"id": 2, "n": None, "name": "b"})
    lean, stock = await both_async(document)
    assert lean == stock
    if "boom" in document:
        assert lean["errors"][0]["message"].startswith("boom")
        assert lean["data"] is None if "Required" in document else list(lean["data"].values()) == [None]


def test_execute_lean_refuses_incremental_delivery_as_graphql_core_does() -> None:
    from graphql import GraphQLError, build_schema

    incremental = build_schema(
        "directive @defer(if: Boolean, label: String) on FRAGMENT_SPREAD | INLINE_FRAGMENT\n"
        "type Query { a: String }"
    )
    with pytest.raises(GraphQLError) as lean:
        execute_lean(incremental, parse("{ a }"), None, None, None)
    with pytest.raises(GraphQLError) as stock:
        execute(incremental, parse("{ a }"))
    assert lean.value.message == stock.value.message
    plain = execute_lean(build_schema("type Query { a: String }"), parse("{ a }"), None, None, None)
    assert isinstance(plain, ExecutionResult) and plain.data == {"a": None}


@pytest.mark.parametrize(
    ("document", "variables", "expected"),
    [
        ("query Q($a: ID) { paged(after: $a) }", {"a": "x"}, "[('after', 'x'), ('first', 10)]"),
        ("query Q($f: Int) { paged(first: $f) }", {}, "[('first', 10)]"),
        ("query Q($f: Int) { paged(first: $f) }", {"f": None}, "[('first', None)]"),
        (
            "query Q($f: Int, $a: ID) { paged(first: $f, after: $a) }",
            {"f": 2, "a": "y"},
            "[('after', 'y'), ('first', 2)]",
        ),
        ("query Q($s: String) { echo(s: $s, i: 3) }", {"s": "z"}, "[('i', 3), ('s', 'z')]"),
        ("query Q($s: String) { echo(s: $s) }", {}, "[]"),
        ("query Q($ids: [ID!]!) { echo(ids: $ids) }", {"ids": ["a"]}, "[('ids', ['a'])]"),
    ],
)
def test_arguments_from_variables_are_graphql_cores(document: str, variables: dict[str, Any], expected: str) -> None:
    """Arguments that are all variables with values are taken as they are; defaults, literals and
    missing variables are graphql-core's to decide: the same arguments either way."""
    lean, stock = run_both(document, variables)
    assert lean == stock
    assert next(iter(lean["data"].values())) == expected
