"""``kv``: a second test-only plugin with a database, to show databases and histories stay apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ariadne import MutationType, QueryType
from sqlalchemy import Column, MetaData, String, Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

import byway
from byway.auth import require_user
from byway.context import RequestContext
from byway.declarations import GraphQLApi, PluginInfo

metadata = MetaData()
items = Table(
    "kv_items",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", String(500), nullable=False),
)

TYPE_DEFS = """
type Query { get(key: String!): String }
type Mutation {
  "Store value under key unless the key is taken; returns the stored value."
  put(key: String!, value: String!): String!
}
"""

query = QueryType()
mutation = MutationType()


@query.field("get")
async def resolve_get(_: Any, info: Any, key: str) -> str | None:
    ctx: RequestContext = info.context
    async with ctx.session() as session:
        value = await session.scalar(select(items.c.value).where(items.c.key == key))
    return str(value) if value is not None else None


@mutation.field("put")
async def resolve_put(_: Any, info: Any, key: str, value: str) -> str:
    ctx: RequestContext = info.context
    require_user(ctx.principal)
    async with ctx.session() as session:
        insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
        await session.execute(insert(items).values(key=key, value=value).on_conflict_do_nothing())
        stored = await session.scalar(select(items.c.value).where(items.c.key == key))
        await session.commit()
    return str(stored)


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    return PluginInfo(name="kv", description="test-only key/value store")


@byway.hookimpl
def byway_register_models() -> MetaData:
    return metadata


@byway.hookimpl
def byway_register_migrations() -> Path:
    return Path(__file__).parent / "migrations"


@byway.hookimpl
def byway_register_schema() -> GraphQLApi:
    return GraphQLApi(TYPE_DEFS, [query, mutation])
