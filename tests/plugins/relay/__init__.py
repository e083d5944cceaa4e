"""``relay``: a test-only plugin without a database that reaches ``notes`` only through the client.

It shows what a plugin sees of another one: data, or a :class:`~byway.client.CrossPluginError` /
:class:`~byway.errors.UpstreamUnavailable` with the target's code. ``relay`` runs any document on
any plugin and reports the outcome as data, so a test can run one scenario under both transports
and compare what came back.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ariadne import MutationType, ObjectType, QueryType

import byway
from byway.client import CrossPluginError
from byway.context import RequestContext
from byway.declarations import GraphQLApi, Operation, PluginInfo
from byway.errors import ByWayError

WHOAMI = "query RelayWhoami { whoami }"
MY_NOTES = "query RelayMyNotes { notes { id text authorId } }"
SECRET_COUNT = "query RelaySecretCount { secretCount }"
ADD_NOTE = "mutation RelayAddNote($text: String!) { addNote(text: $text) { id text authorId } }"

TYPE_DEFS = """
type Query {
  "Who notes thinks is calling: on behalf of the caller, or as the relay service."
  relayWhoami(asService: Boolean = false): String!
  "The caller's notes, fetched from notes on the caller's behalf."
  relayNotes: [String!]!
  "How many notes exist (a service-only field of notes), asked as the relay service."
  relaySecretCount: Int!
  "Run any document on any plugin; the outcome as data."
  relay(plugin: String!, query: String!, variables: String, asService: Boolean = false): RelayResult!
  "The numbers 1..first (a list field with a ``first`` argument, for the cost limit)."
  items(first: Int = 10): [Item!]!
  "Answer after ``seconds`` (a slow target for client timeouts)."
  slow(seconds: Float!): String!
}
type Mutation {
  relayAddNote(text: String!): String!
}
type Item { n: Int! }
type RelayResult { data: String  code: String  message: String }
"""

query = QueryType()
mutation = MutationType()


def _as(ctx: RequestContext, as_service: bool) -> Any:
    return "service" if as_service else ctx.principal


@query.field("relayWhoami")
async def resolve_relay_whoami(_: Any, info: Any, asService: bool = False) -> str:
    ctx: RequestContext = info.context
    data = await ctx.client.call("notes", WHOAMI, as_=_as(ctx, asService))
    return str(data["whoami"])


@query.field("relayNotes")
async def resolve_relay_notes(_: Any, info: Any) -> list[str]:
    ctx: RequestContext = info.context
    data = await ctx.client.call("notes", MY_NOTES, as_=ctx.principal)
    return [n["text"] for n in data["notes"]]


@query.field("relaySecretCount")
async def resolve_relay_secret_count(_: Any, info: Any) -> int:
    ctx: RequestContext = info.context
    data = await ctx.client.call("notes", SECRET_COUNT, as_="service")
    return int(data["secretCount"])


@query.field("relay")
async def resolve_relay(
    _: Any, info: Any, plugin: str, query: str, variables: str | None = None, asService: bool = False
) -> dict[str, Any]:
    ctx: RequestContext = info.context
    try:
        data = await ctx.client.call(
            plugin, query, json.loads(variables) if variables else None, as_=_as(ctx, asService)
        )
    except CrossPluginError as exc:
        return {"data": None, "code": exc.code, "message": exc.remote_message}
    except ByWayError as exc:
        return {"data": None, "code": exc.code, "message": exc.message}
    return {"data": json.dumps(data, sort_keys=True), "code": None, "message": None}


@query.field("items")
def resolve_items(_: Any, info: Any, first: int = 10) -> list[dict[str, int]]:
    return [{"n": n} for n in range(1, first + 1)]


@query.field("slow")
async def resolve_slow(_: Any, info: Any, seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "done"


@mutation.field("relayAddNote")
async def resolve_relay_add_note(_: Any, info: Any, text: str) -> str:
    ctx: RequestContext = info.context
    data = await ctx.client.call("notes", ADD_NOTE, {"text": text}, as_=ctx.principal)
    return str(data["addNote"]["id"])


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    return PluginInfo(name="relay", description="test-only: calls notes through the client")


@byway.hookimpl
def byway_register_schema() -> GraphQLApi:
    return GraphQLApi(TYPE_DEFS, [query, mutation, ObjectType("RelayResult")])


@byway.hookimpl
def byway_register_operations() -> list[Operation]:
    return [Operation("notes", doc) for doc in (WHOAMI, MY_NOTES, SECRET_COUNT, ADD_NOTE)]
