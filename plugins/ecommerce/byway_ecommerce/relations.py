"""The cross-plugin references ``ecommerce`` holds, how they are enforced, and how ``byway audit`` checks them."""

from __future__ import annotations

from sqlalchemy import Column, select

from byway.declarations import Relation
from byway.runtime import PluginRuntime
from byway_ecommerce.models import PAID, PENDING, REVIEW, order_items, orders
from byway_ecommerce.operations import COURSES_EXIST, STUDENTS_EXIST


async def _distinct(plugin: PluginRuntime, column: Column[str]) -> list[str]:
    async with plugin.sessions() as session:
        return list((await session.execute(select(column).where(column.is_not(None)).distinct())).scalars())


async def held_student_ids(plugin: PluginRuntime) -> list[str]:
    """The distinct students-internal Student ids orders belong to (``Relation.held_ids``)."""
    return await _distinct(plugin, orders.c.student_id)


async def held_course_ids(plugin: PluginRuntime) -> list[str]:
    """The distinct teach-internal Course ids order items refer to (``Relation.held_ids``)."""
    return await _distinct(plugin, order_items.c.course_id)


RELATIONS = [
    Relation(
        source="ecommerce.Order.studentId",
        target="students-internal.Student",
        on_write="must exist (the caller's own Student via myStudent/registerStudent, else student(id) as service)",
        on_delete="restrict (orders are financial records; a buying student is never deleted)",
        enforced_by=("ecommerce.createCheckout",),
        held_ids=held_student_ids,
        exists=STUDENTS_EXIST,
    ),
    Relation(
        source="ecommerce.OrderItem.courseId",
        target="teach-internal.Course",
        on_write="must exist and be published (teach-internal.coursesByIds, one call per checkout)",
        on_delete="restrict: teach-internal.deleteCourse is refused while pending, paid or in-review orders hold it",
        enforced_by=("ecommerce.createCheckout", "teach-internal.deleteCourse"),
        held_ids=held_course_ids,
        exists=COURSES_EXIST,
        # Applied by the host (byway.cascade): only items of PENDING, PAID or REVIEW orders restrict.
        column=order_items.c.course_id,
        where=order_items.c.order_id.in_(select(orders.c.id).where(orders.c.status.in_((PENDING, PAID, REVIEW)))),
    ),
]
