"""Resolvers of the ``notifications`` API: ``sendEmail`` (services) and ``messages`` (admins)."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, QueryType
from graphql import GraphQLResolveInfo

from byway.auth import require_admin, require_service
from byway.context import RequestContext
from byway.errors import BadUserInput
from byway_notifications import store, validation

query = QueryType()
mutation = MutationType()
MAX_FIRST = 200


@mutation.field("sendEmail")
async def resolve_send_email(
    _: Any,
    info: GraphQLResolveInfo[RequestContext],
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    key: str | None = None,
) -> bool:
    """Store the message for delivery (idempotent on the caller's ``key``)."""
    ctx: RequestContext = info.context
    principal = require_service(ctx.principal)
    message = store.NewMessage(
        sender=str(principal.service),
        key=validation.clean_key(key),
        to=validation.clean_address(to),
        subject=validation.clean_subject(subject),
        text=str(validation.clean_body(text, "text", validation.MAX_TEXT, required=True)),
        html=validation.clean_body(html, "html", validation.MAX_HTML, required=False),
    )
    async with ctx.session() as session:
        await store.add_message(session, message)
        await session.commit()
    return True


@query.field("messages")
async def resolve_messages(
    _: Any, info: GraphQLResolveInfo[RequestContext], to: str | None = None, first: int | None = 50
) -> list[dict[str, Any]]:
    """Stored messages, newest first (admins)."""
    ctx: RequestContext = info.context
    require_admin(ctx.principal)
    first = 50 if first is None else first  # an explicit `first: null` (was INTERNAL: found by fuzzing)
    if not 1 <= first <= MAX_FIRST:
        raise BadUserInput(f"'first' must be between 1 and {MAX_FIRST}", field="first")
    async with ctx.session() as session:
        return await store.list_messages(session, to=to, limit=first)


BINDABLES = [query, mutation]
