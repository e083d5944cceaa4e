"""The cross-plugin references ``ecommerce`` holds, how they are enforced, and how ``byway audit`` checks them."""

from __future__ import annotations

from sqlalchemy import select

import byway
from byway_ecommerce.models import PAID, PENDING, REVIEW, order_items, orders
from byway_ecommerce.operations import COURSES_EXIST, STUDENTS_EXIST

RELATIONS = [
    byway.Relation(
        source="ecommerce.Order.studentId",
        target="students-internal.Student",
        on_write="must exist (the caller's own Student via myStudent/registerStudent, else student(id) as service)",
        on_delete="restrict (orders are financial records; a buying student is never deleted)",
        enforced_by=("ecommerce.createCheckout",),
        held_ids=byway.held_ids(orders.c.student_id),
        exists=STUDENTS_EXIST,
    ),
    byway.Relation(
        source="ecommerce.OrderItem.courseId",
        target="teach-internal.Course",
        on_write="must exist and be published (teach-internal.coursesByIds, one call per checkout)",
        on_delete="restrict: teach-internal.deleteCourse is refused while pending, paid or in-review orders hold it",
        enforced_by=("ecommerce.createCheckout", "teach-internal.deleteCourse"),
        held_ids=byway.held_ids(order_items.c.course_id),
        exists=COURSES_EXIST,
        # Applied by the host (byway.cascade): only items of PENDING, PAID or REVIEW orders restrict.
        column=order_items.c.course_id,
        where=order_items.c.order_id.in_(select(orders.c.id).where(orders.c.status.in_((PENDING, PAID, REVIEW)))),
    ),
]
