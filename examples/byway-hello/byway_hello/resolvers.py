"""Resolvers of ``hello``: arguments, permissions, then the store."""

from typing import Any

from ariadne import MutationType, QueryType
from graphql import GraphQLResolveInfo

import byway
from byway_hello import store
from byway_hello.config import config_of

MAX_NAME = 100
MAX_FIRST = 100

query = QueryType()
mutation = MutationType()


def clean_name(name: str) -> str:
    """The name without surrounding blanks; refused when empty or too long."""
    name = name.strip()
    if not name:
        raise byway.BadUserInput("name must not be empty", field="name")
    if len(name) > MAX_NAME:
        raise byway.BadUserInput(f"name must be at most {MAX_NAME} characters", field="name")
    return name


@query.field("hello")
def resolve_hello(_: Any, info: GraphQLResolveInfo[byway.RequestContext], name: str = "world") -> str:
    """``hello(name)``: a greeting; no database, no login."""
    return f"{config_of(info.context.plugin).greeting}, {clean_name(name)}!"


@query.field("greetings")
async def resolve_greetings(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], first: int = 20
) -> list[dict[str, Any]]:
    """``greetings(first)``: the latest greetings, newest first."""
    if not 1 <= first <= MAX_FIRST:
        raise byway.BadUserInput(f"first must be between 1 and {MAX_FIRST}", field="first")
    async with info.context.session() as session:
        return await store.latest_greetings(session, first)


@mutation.field("greet")
async def resolve_greet(_: Any, info: GraphQLResolveInfo[byway.RequestContext], name: str) -> dict[str, Any]:
    """``greet(name)``: store a greeting by the caller."""
    ctx = info.context
    user = byway.require_user(ctx.principal)
    name = clean_name(name)
    message = f"{config_of(ctx.plugin).greeting}, {name}!"
    async with ctx.session() as session:
        greeting = await store.add_greeting(session, name=name, message=message, author_id=str(user.user_id))
        await session.commit()
    return greeting


BINDABLES = [query, mutation]
