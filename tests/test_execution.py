"""The GraphQL executor: cached parse and validation, limits, error formatting."""

from __future__ import annotations

from typing import Any

import pytest
from ariadne import QueryType
from graphql import GraphQLError

import byway.execution
import tests.plugins.notes as notes
from byway.auth import ANONYMOUS_PRINCIPAL
from byway.context import RequestContext
from byway.declarations import GraphQLApi
from byway.errors import Conflict, NotFound
from byway.execution import GraphQLExecutor, RequestError, build_schema, first_error_code, operation_type
from byway.settings import Settings
from byway.testing import running_app

TYPE_DEFS = """
type Query {
  hello(name: String = "world"): String!
  missing: String
  conflict: String
  internal: String
  graphqlError: String
  nonNull: String!
  badInt: Int
  items(first: Int): [Item!]!
}
type Item { n: Int! child: Item }
type Mutation { touch: Boolean! }
"""


def _raise(exc: Exception) -> Any:
    def resolver(*_: Any, **__: Any) -> Any:
        raise exc

    return resolver


query = QueryType()
query.set_field("hello", lambda _, info, name: f"hello {name}")
query.set_field("missing", _raise(NotFound("no such thing")))
query.set_field("conflict", _raise(Conflict("in use", references=[{"plugin": "x", "count": 2}])))
query.set_field("internal", _raise(ValueError("password=hunter2")))
query.set_field("graphqlError", _raise(GraphQLError("raw graphql error")))
query.set_field("nonNull", lambda *_: None)
query.set_field("badInt", lambda *_: "abc")
query.set_field("items", lambda _, info, first=3: [{"n": n, "child": None} for n in range(first)])
SCHEMA = build_schema(GraphQLApi(TYPE_DEFS, [query]))


class FakeRuntime:
    name = "fake"


def context() -> RequestContext:
    return RequestContext(FakeRuntime(), ANONYMOUS_PRINCIPAL)  # type: ignore[arg-type]


def executor(**options: Any) -> GraphQLExecutor:
    return GraphQLExecutor("fake", SCHEMA, **options)


async def run(ex: GraphQLExecutor, query: Any, variables: Any = None, operation_name: Any = None) -> Any:
    return await ex.run(query, variables, operation_name, context())


async def test_runs_an_operation() -> None:
    assert await run(executor(), '{ hello(name: "byway") }') == (200, {"data": {"hello": "hello byway"}})
    assert await run(executor(), "query H($n: String!) { hello(name: $n) }", {"n": "v"}) == (
        200,
        {"data": {"hello": "hello v"}},
    )


async def test_refusals_keep_code_message_and_extensions() -> None:
    status, body = await run(executor(), "{ missing conflict hello }")
    assert status == 200
    assert body["data"] == {"missing": None, "conflict": None, "hello": "hello world"}
    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "NOT_FOUND"},
        {"code": "CONFLICT", "references": [{"plugin": "x", "count": 2}]},
    ]
    assert [e["message"] for e in body["errors"]] == ["no such thing", "in use"]
    assert body["errors"][0]["path"] == ["missing"]


@pytest.mark.parametrize("field", ["internal", "graphqlError", "nonNull", "badInt"])
async def test_unexpected_failures_are_internal_without_detail(field: str) -> None:
    status, body = await run(executor(), f"{{ {field} }}")
    assert status == 200
    assert body["errors"][0]["message"] == "Internal server error"
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL"}
    assert "hunter2" not in repr(body) and "raw graphql" not in repr(body)


async def test_debug_adds_the_exception() -> None:
    status, body = await run(executor(debug=True), "{ internal }")
    assert status == 200
    exception = body["errors"][0]["extensions"]["exception"]
    assert exception["message"] == "ValueError: password=hunter2"
    assert any("ValueError" in line for line in exception["stacktrace"])


async def test_request_errors() -> None:
    ex = executor()
    assert (await run(ex, None))[0] == 400
    assert (await run(ex, "{ hello }", variables="x"))[0] == 400
    assert (await run(ex, "{ hello }", operation_name=5))[0] == 400
    for query, reason in [("{ hello ", "parse"), ("{ nope }", "validation"), ("{ hello { x } }", "validation")]:
        status, body = await run(ex, query)
        assert status == 400
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": reason}


async def test_every_validation_error_is_reported() -> None:
    status, body = await run(executor(), "{ nope1 nope2 }")
    assert status == 400 and len(body["errors"]) == 2


async def test_depth_limit() -> None:
    ex = executor(max_depth=3)
    assert (await run(ex, "{ items { child { n } } }"))[0] == 200
    status, body = await run(ex, "{ items { child { child { n } } } }")
    assert status == 400
    assert body["errors"][0]["extensions"]["reason"] == "depth"
    assert "4" in body["errors"][0]["message"]


async def test_cost_limit_uses_first_from_literals_and_variables() -> None:
    ex = executor(max_cost=100)
    assert (await run(ex, "{ items(first: 50) { n } }"))[0] == 200
    assert (await run(ex, "{ items(first: 200) { n } }"))[0] == 400
    doc = "query I($f: Int) { items(first: $f) { n } }"
    assert (await run(ex, doc, {"f": 99}))[0] == 200
    status, body = await run(ex, doc, {"f": 100})
    assert status == 400 and body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "cost"}


async def test_introspection_switch() -> None:
    doc = '{ __type(name: "Item") { name } }'
    assert (await run(executor(), doc)) == (200, {"data": {"__type": {"name": "Item"}}})
    status, body = await run(executor(introspection=False), doc)
    assert status == 400 and body["errors"][0]["extensions"]["reason"] == "validation"


async def test_variables_errors_are_400() -> None:
    doc = "query H($n: String!) { hello(name: $n) }"
    for variables in ({}, {"n": None}, {"n": 5}, {"n": ["a"]}):
        status, body = await run(executor(), doc, variables)
        assert status == 400, variables
        assert first_error_code(body["errors"]) == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["reason"] == "variables"


def test_documents_are_parsed_and_validated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_parse, real_validate = byway.execution.parse, byway.execution.validate

    def counting_parse(source: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append("parse")
        return real_parse(source, *args, **kwargs)

    def counting_validate(*args: Any, **kwargs: Any) -> Any:
        calls.append("validate")
        return real_validate(*args, **kwargs)

    monkeypatch.setattr(byway.execution, "parse", counting_parse)
    monkeypatch.setattr(byway.execution, "validate", counting_validate)
    ex = executor()
    first = ex.prepare("{ hello }")
    assert ex.prepare("{ hello }") is first
    assert calls == ["parse", "validate"]
    for _ in range(2):  # refusals are cached too
        with pytest.raises(RequestError):
            ex.prepare("{ nope }")
    assert calls == ["parse", "validate"] * 2


def test_cache_is_bounded() -> None:
    ex = executor(cache_size=2)
    for doc in ("{ hello }", "{ missing }", "{ conflict }"):
        ex.prepare(doc)
    assert list(ex._cache) == ["{ missing }", "{ conflict }"]


def test_operation_type() -> None:
    ex = executor()
    prepared = ex.prepare("query A { hello } mutation B { touch }")
    assert operation_type(prepared, "A") == "query"
    assert operation_type(prepared, "B") == "mutation"
    assert operation_type(prepared, None) is None
    assert operation_type(ex.prepare("mutation { touch }"), None) == "mutation"


def test_first_error_code() -> None:
    assert first_error_code([{"message": "x"}, {"extensions": {"code": "FORBIDDEN"}}]) == "FORBIDDEN"
    assert first_error_code([{"message": "x"}]) == "INTERNAL"


async def test_http_requests_share_the_document_cache(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real_validate = byway.execution.validate

    def counting_validate(schema: Any, document: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(document.loc.source.body)
        return real_validate(schema, document, *args, **kwargs)

    monkeypatch.setattr(byway.execution, "validate", counting_validate)
    doc = "query CachedWhoami { whoami }"
    async with running_app([notes], settings) as app:
        for _ in range(3):
            assert (await app.gql("notes", doc))["data"] == {"whoami": "anonymous"}
        service = app.host.plugins["notes"].client
        for _ in range(3):
            assert await service.call("notes", doc, as_="service") == {"whoami": "service"}
    assert seen.count(doc) == 1
