"""Resolvers of ``shelf``: a user shelves one of their notes (checked in ``notes``)."""

from typing import Any

from ariadne import MutationType, QueryType
from graphql import GraphQLResolveInfo
from sqlalchemy import func, insert, select

import byway
from tests.plugins.shelf.config import Counter, config_of
from tests.plugins.shelf.models import items
from tests.plugins.shelf.operations import NOTE

query = QueryType()
mutation = MutationType()


@query.field("shelf")
async def resolve_shelf(_: Any, info: GraphQLResolveInfo[byway.RequestContext]) -> list[dict[str, Any]]:
    ctx: byway.RequestContext = info.context
    user = byway.require_user(ctx.principal)
    async with ctx.session() as session:
        rows = (await session.execute(select(items).where(items.c.owner_id == user.user_id))).all()
    return [{"id": row.id, "noteId": row.note_id} for row in rows]


@query.field("capacity")
def resolve_capacity(_: Any, info: GraphQLResolveInfo[byway.RequestContext]) -> int:
    ctx: byway.RequestContext = info.context
    ctx.plugin.slot(Counter).count += 1
    return config_of(ctx.plugin).capacity


@mutation.field("shelve")
async def resolve_shelve(_: Any, info: GraphQLResolveInfo[byway.RequestContext], noteId: str) -> dict[str, Any]:
    ctx: byway.RequestContext = info.context
    user = byway.require_user(ctx.principal)
    try:
        data = await ctx.client.call("notes", NOTE, {"id": noteId}, as_=ctx.principal)
    except byway.CrossPluginError as exc:
        raise exc.for_caller("Could not check the note") from exc
    note = data.get("note")
    if note is None or note["authorId"] != user.user_id:
        raise byway.NotFound(f"No note {noteId} of yours")
    async with ctx.session() as session:
        count = await session.scalar(select(func.count()).select_from(items).where(items.c.owner_id == user.user_id))
        if (count or 0) >= config_of(ctx.plugin).capacity:
            raise byway.Conflict("The shelf is full")
        item = {"id": byway.new_id(), "note_id": noteId, "owner_id": user.user_id, "created_at": byway.utcnow()}
        await session.execute(insert(items).values(**item))
        await session.commit()
    return {"id": item["id"], "noteId": noteId}


BINDABLES = [query, mutation]
