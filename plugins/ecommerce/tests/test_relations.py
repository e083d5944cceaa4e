"""The relations ecommerce declares: enforced at checkout (see test_checkout) and audited by ``byway audit``."""

from __future__ import annotations

from ecommerce_shop import Shop

from byway import relations as host_relations


async def test_audit_finds_orders_whose_student_or_course_disappeared(shop: Shop) -> None:
    kept = shop.courses.add_course()
    doomed = shop.courses.add_course()
    student = shop.students.add_student(None)
    gone = shop.students.add_student(None)
    await shop.buy([kept, doomed], student_id=student)
    await shop.buy([kept], student_id=gone)

    reports = {r.relation.source: r for r in await host_relations.audit(shop.app.host)}
    assert reports["ecommerce.Order.studentId"].clean and reports["ecommerce.Order.studentId"].checked == 2
    assert reports["ecommerce.OrderItem.courseId"].clean and reports["ecommerce.OrderItem.courseId"].checked == 2

    del shop.students.students[gone]  # written behind ecommerce's back, e.g. a restored backup
    del shop.courses.courses[doomed]
    reports = {r.relation.source: r for r in await host_relations.audit(shop.app.host)}
    assert reports["ecommerce.Order.studentId"].dangling == [gone]
    assert reports["ecommerce.OrderItem.courseId"].dangling == [doomed]
    assert shop.students.calls["studentsByIds"] == 2  # asked through the API, as the ecommerce service
