"""GraphQL resolvers of ``ecommerce``: arguments, permissions, and calls into the modules that hold the rules."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, QueryType
from graphql import GraphQLResolveInfo

from byway import (
    BadUserInput,
    CrossPluginError,
    Forbidden,
    RequestContext,
    audit_entries,
    require_admin,
    require_service_or_admin,
    require_user,
)
from byway_ecommerce.cart import validate_id
from byway_ecommerce.checkout import create_checkout
from byway_ecommerce.models import PAID, PENDING, REVIEW, audit_log
from byway_ecommerce.operations import MY_STUDENT, STUDENTS
from byway_ecommerce.review import resolve_review
from byway_ecommerce.state import client_address
from byway_ecommerce.store import history
from byway_ecommerce.verify import verify_checkout

query = QueryType()
mutation = MutationType()

MAX_ORDERS = 200


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
    ctx: RequestContext = info.context
    return await create_checkout(ctx, items, successUrl, cancelUrl, studentId, email)


@query.field("verifyCheckout")
@mutation.field("verifyCheckout")
async def resolve_verify_checkout(_: Any, info: GraphQLResolveInfo[RequestContext], sessionId: str) -> dict[str, Any]:
    ctx: RequestContext = info.context
    return await verify_checkout(ctx.plugin, ctx.principal, sessionId)


@query.field("myOrders")
async def resolve_my_orders(
    _: Any,
    info: GraphQLResolveInfo[RequestContext],
    first: int = 50,
    status: str | None = None,
    studentId: str | None = None,
) -> list[dict[str, Any]]:
    ctx: RequestContext = info.context
    user = require_user(ctx.principal)
    if not isinstance(first, int) or not 1 <= first <= MAX_ORDERS:
        raise BadUserInput(f"first must be between 1 and {MAX_ORDERS}", field="first")
    if user.is_admin and (studentId is not None or status is not None):
        student_id = None if studentId is None else validate_id(studentId, "studentId", "studentId")
        async with ctx.session() as session:
            return await history.list_orders(session, first=first, student_id=student_id, status=status)
    try:
        data = await ctx.client.call(STUDENTS, MY_STUDENT, as_=user)
    except CrossPluginError as exc:
        raise exc.for_caller("Could not find your student account") from exc
    student = data.get("myStudent")
    if studentId is not None and (not student or studentId != student["id"]):
        raise Forbidden("You can only list your own orders")
    if not student:
        return []
    async with ctx.session() as session:
        return await history.list_orders(session, first=first, student_id=student["id"], status=status)


@mutation.field("resolveOrderReview")
async def resolve_order_review(
    _: Any, info: GraphQLResolveInfo[RequestContext], orderId: str, action: str
) -> dict[str, Any]:
    ctx: RequestContext = info.context
    require_admin(ctx.principal)
    order_id = validate_id(orderId, "orderId", "orderId")
    return await resolve_review(ctx.plugin, ctx.principal, order_id, action, client_address(ctx))


@query.field("auditLog")
async def resolve_audit_log(
    _: Any, info: GraphQLResolveInfo[RequestContext], first: int = 50, after: str | None = None
) -> list[dict[str, Any]]:
    ctx: RequestContext = info.context
    require_admin(ctx.principal)
    if not isinstance(first, int) or not 1 <= first <= MAX_ORDERS:
        raise BadUserInput(f"first must be between 1 and {MAX_ORDERS}", field="first")
    async with ctx.session() as session:
        return await audit_entries(session, audit_log, first=first, after=after)


@query.field("courseOrderCount")
async def resolve_course_order_count(_: Any, info: GraphQLResolveInfo[RequestContext], courseId: str) -> int:
    ctx: RequestContext = info.context
    require_service_or_admin(ctx.principal)
    course_id = validate_id(courseId, "courseId", "courseId")
    async with ctx.session() as session:
        return await history.course_order_count(session, course_id, (PENDING, PAID, REVIEW))


BINDABLES = [query, mutation]
