"""GraphQL resolvers of ``ecommerce``: thin bindings onto the modules that hold the rules."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ariadne import MutationType, QueryType
from graphql import GraphQLResolveInfo
from sqlalchemy import distinct, func, select

from byway.auth import require_service_or_admin, require_user
from byway.context import RequestContext
from byway.db import iso_utc
from byway.errors import BadUserInput
from byway_ecommerce.checkout import create_checkout, validate_id
from byway_ecommerce.models import PAID, PENDING, order_items, orders
from byway_ecommerce.operations import MY_STUDENT, STUDENTS
from byway_ecommerce.verify import verify_checkout

query = QueryType()
mutation = MutationType()

MAX_ORDERS = 200


def _context(info: GraphQLResolveInfo[RequestContext]) -> RequestContext:
    context: RequestContext = info.context
    return context


@mutation.field("createCheckout")
async def resolve_create_checkout(
    _: Any,
    info: GraphQLResolveInfo[RequestContext],
    items: list[dict[str, Any]],
    successUrl: str,
    cancelUrl: str,
    studentId: str | None = None,
    email: str | None = None,
) -> dict[str, Any]:
    return await create_checkout(_context(info), items, successUrl, cancelUrl, studentId, email)


@query.field("verifyCheckout")
@mutation.field("verifyCheckout")
async def resolve_verify_checkout(_: Any, info: GraphQLResolveInfo[RequestContext], sessionId: str) -> dict[str, Any]:
    ctx = _context(info)
    return await verify_checkout(ctx.plugin, ctx.principal, sessionId)


@query.field("myOrders")
async def resolve_my_orders(_: Any, info: GraphQLResolveInfo[RequestContext], first: int = 50) -> list[dict[str, Any]]:
    ctx = _context(info)
    user = require_user(ctx.principal)
    if not isinstance(first, int) or not 1 <= first <= MAX_ORDERS:
        raise BadUserInput(f"first must be between 1 and {MAX_ORDERS}", field="first")
    data = await ctx.client.call(STUDENTS, MY_STUDENT, as_=user)
    student = data.get("myStudent")
    if not student:
        return []
    async with ctx.session() as session:
        rows = (
            await session.execute(
                select(orders)
                .where(orders.c.student_id == student["id"])
                .order_by(orders.c.created_at.desc(), orders.c.id)
                .limit(first)
            )
        ).all()
        ids = [row.id for row in rows]
        items: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if ids:
            for item in (
                await session.execute(
                    select(order_items).where(order_items.c.order_id.in_(ids)).order_by(order_items.c.position)
                )
            ).all():
                items[item.order_id].append(
                    {
                        "id": item.id,
                        "courseId": item.course_id,
                        "title": item.title,
                        "priceCents": item.price_cents,
                        "currency": item.currency,
                    }
                )
    return [
        {
            "id": row.id,
            "studentId": row.student_id,
            "status": row.status,
            "totalCents": row.total_cents,
            "currency": row.currency,
            "items": items[row.id],
            "email": row.email,
            "createdAt": iso_utc(row.created_at),
            "paidAt": iso_utc(row.paid_at) if row.paid_at else None,
        }
        for row in rows
    ]


@query.field("courseOrderCount")
async def resolve_course_order_count(_: Any, info: GraphQLResolveInfo[RequestContext], courseId: str) -> int:
    ctx = _context(info)
    require_service_or_admin(ctx.principal)
    course_id = validate_id(courseId, "courseId", "courseId")
    async with ctx.session() as session:
        count = await session.scalar(
            select(func.count(distinct(orders.c.id)))
            .select_from(orders.join(order_items, order_items.c.order_id == orders.c.id))
            .where(order_items.c.course_id == course_id, orders.c.status.in_((PENDING, PAID)))
        )
    return int(count or 0)


BINDABLES = [query, mutation]
