"""Business rules of ``hello``: validation, permissions and database access."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from sqlalchemy import insert, select

from byway.auth import require_user
from byway.context import RequestContext
from byway.db import new_id, utcnow
from byway.errors import BadUserInput
from byway_hello.models import greetings

MAX_NAME = 100
MAX_FIRST = 100

query = QueryType()
mutation = MutationType()
greeting_type = ObjectType("Greeting")


def greeting_word(ctx: RequestContext) -> str:
    """The configured greeting (``[plugin.hello] greeting`` or ``BYWAY_HELLO_GREETING``)."""
    return str(ctx.plugin.config.get("greeting", "Hello"))


def clean_name(name: str) -> str:
    """The name without surrounding blanks; refused when empty or too long."""
    name = name.strip()
    if not name:
        raise BadUserInput("name must not be empty", field="name")
    if len(name) > MAX_NAME:
        raise BadUserInput(f"name must be at most {MAX_NAME} characters", field="name")
    return name


def _greeting(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "message": row.message, "authorId": row.author_id}


@query.field("hello")
def resolve_hello(_: Any, info: Any, name: str = "world") -> str:
    """``hello(name)``: a greeting; no database, no login."""
    return f"{greeting_word(info.context)}, {clean_name(name)}!"


@query.field("greetings")
async def resolve_greetings(_: Any, info: Any, first: int = 20) -> list[dict[str, Any]]:
    """``greetings(first)``: the latest greetings, newest first."""
    if not 1 <= first <= MAX_FIRST:
        raise BadUserInput(f"first must be between 1 and {MAX_FIRST}", field="first")
    ctx: RequestContext = info.context
    async with ctx.session() as session:
        stmt = select(greetings).order_by(greetings.c.created_at.desc(), greetings.c.id).limit(first)
        rows = (await session.execute(stmt)).all()
    return [_greeting(row) for row in rows]


@mutation.field("greet")
async def resolve_greet(_: Any, info: Any, name: str) -> dict[str, Any]:
    """``greet(name)``: store a greeting by the caller."""
    ctx: RequestContext = info.context
    user = require_user(ctx.principal)
    name = clean_name(name)
    values = {
        "id": new_id(),
        "name": name,
        "message": f"{greeting_word(ctx)}, {name}!",
        "author_id": user.user_id,
        "created_at": utcnow(),
    }
    async with ctx.session() as session:
        row = (await session.execute(insert(greetings).values(**values).returning(*greetings.c))).one()
        await session.commit()
    return _greeting(row)
