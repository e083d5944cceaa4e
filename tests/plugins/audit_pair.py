"""``audit-owner`` and ``audit-holder``: a pair of test-only plugins for ``relations.audit``.

``audit-holder`` keeps pins in its own database; each pin may hold the id of an ``audit-owner``
thing. ``audit-owner`` keeps its things in memory and answers ``thingsByIds`` (services only);
it can be told to refuse, or to answer a list that is not aligned with the ids it was sent.
The holder also declares a relation with no audit and an optional one to a plugin never loaded.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ariadne import QueryType
from graphql import GraphQLResolveInfo
from sqlalchemy import Column, MetaData, String, Table, insert, select

import byway
from byway.auth import require_service_or_admin
from byway.context import RequestContext
from byway.declarations import GraphQLApi, PluginInfo, Relation
from byway.errors import Forbidden
from byway.runtime import PluginRuntime

metadata = MetaData()
pins = Table(
    "audit_pins",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("thing_id", String(64), nullable=True),
)

#: The existence lookup the holder declares (validated against the owner at start-up).
THINGS_EXIST = "query ThingsExist($ids: [ID!]!) { thingsByIds(ids: $ids) { id } }"
#: The same lookup, sent to a plugin that is never loaded.
GHOSTS_EXIST = "query GhostsExist($ids: [ID!]!) { ghostsByIds(ids: $ids) { id } }"


async def held_thing_ids(plugin: PluginRuntime) -> list[str]:
    """The distinct thing ids the pins hold (the holder's own database only)."""
    async with plugin.sessions() as session:
        rows = await session.execute(select(pins.c.thing_id).where(pins.c.thing_id.is_not(None)).distinct())
        return list(rows.scalars())


async def add_pins(plugin: PluginRuntime, thing_ids: Iterable[str | None]) -> None:
    """Store one pin per thing id (tests write the holder's rows directly)."""
    async with plugin.sessions() as session:
        for thing_id in thing_ids:
            await session.execute(insert(pins).values(id=uuid.uuid4().hex, thing_id=thing_id))
        await session.commit()


class Owner:
    """``audit-owner``: ``thingsByIds`` answers from ``things``; ``calls`` records the ids of each call."""

    TYPE_DEFS = "type Thing { id: ID! } type Query { thingsByIds(ids: [ID!]!): [Thing]! }"

    def __init__(self, things: Iterable[str] = (), *, mode: str = "ok") -> None:
        self.things = set(things)
        self.mode = mode  # "ok", "refuse" or "misaligned"
        self.calls: list[list[str]] = []

    @byway.hookimpl
    def byway_register_plugin(self) -> PluginInfo:
        return PluginInfo(name="audit-owner", description="test-only owner of things")

    @byway.hookimpl
    def byway_register_schema(self) -> GraphQLApi:
        query = QueryType()

        @query.field("thingsByIds")
        def resolve_things(_: Any, info: GraphQLResolveInfo[RequestContext], ids: list[str]) -> list[Any]:
            require_service_or_admin(info.context.principal)
            self.calls.append(list(ids))
            if self.mode == "refuse":
                raise Forbidden("not today")
            found = [{"id": i} if i in self.things else None for i in ids]
            return found[:-1] if self.mode == "misaligned" else found

        return GraphQLApi(self.TYPE_DEFS, [query])


class Holder:
    """``audit-holder``: pins in its own database, holding ``audit-owner`` thing ids."""

    @byway.hookimpl
    def byway_register_plugin(self) -> PluginInfo:
        return PluginInfo(name="audit-holder", description="test-only holder of thing ids")

    @byway.hookimpl
    def byway_register_models(self) -> MetaData:
        return metadata

    @byway.hookimpl
    def byway_register_migrations(self) -> Path:
        return Path(__file__).parent / "audit_pair_migrations"

    @byway.hookimpl
    def byway_register_relations(self) -> list[Relation]:
        return [
            Relation(
                "audit-holder.Pin.thingId",
                "audit-owner.Thing",
                enforced_by=("tests",),
                held_ids=held_thing_ids,
                exists=THINGS_EXIST,
            ),
            Relation("audit-holder.Pin.labelId", "audit-owner.Label", enforced_by=("tests",)),
            Relation(
                "audit-holder.Pin.ghostId",
                "ghost.Ghost",
                optional=True,
                held_ids=held_thing_ids,
                exists=GHOSTS_EXIST,
            ),
        ]
