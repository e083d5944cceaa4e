"""``createCheckout``: validate the cart, find the buyer, price it from teach-internal, open a session.

Order of work (nothing is written before every check passed):

1. Input: 1 to 50 items, quantity 1 (a course is a single seat; a course listed twice counts once),
   http(s) success and cancel URLs, a plausible email.
2. Buyer: a logged-in user is mapped to their Student (``myStudent``, created with
   ``registerStudent`` when missing, both as the user); only an admin or a service may name
   another ``studentId`` (``student(id)`` as service; unknown → NOT_FOUND). A user naming
   someone else's student gets FORBIDDEN and an anonymous caller UNAUTHENTICATED before anything
   about that student is read: a stranger must not learn what a student owns, supersede their
   open checkout or put an order in their ``myOrders``.
3. Courses: ONE ``coursesByIds`` call to teach-internal (as the user, or as service); unknown or
   unpublished → NOT_FOUND naming the course; mixed currencies → BAD_USER_INPUT; a cart of
   free courses only → BAD_USER_INPUT (free courses are taken with ``enrollMe``; no payment
   provider charges 0).
4. Ownership: ONE ``enrollmentStatus(courseIds, studentId)`` call as service; any owned course →
   ALREADY_ENROLLED with its id and title.
5. The buyer's other open checkouts of these courses (:mod:`byway_ecommerce.open_checkout`): the
   same cart at the same prices reuses its open session (no new rows); an overlapping one is
   expired at the provider and CANCELLED (superseded), or, if it was paid meanwhile, fulfilled and
   the new checkout refused with ALREADY_ENROLLED.
6. A PENDING order with title and price snapshots and its ``active_checkouts`` rows (at most one
   PENDING order per buyer and course), then the provider's Checkout Session (its idempotency key
   is per order); if the provider fails, the order is CANCELLED and the caller gets
   UPSTREAM_UNAVAILABLE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from byway import (
    AlreadyEnrolled,
    BadUserInput,
    CallAs,
    CrossPluginError,
    Forbidden,
    NotFound,
    Principal,
    RequestContext,
    Unauthenticated,
    UpstreamUnavailable,
)
from byway_ecommerce.cart import (
    success_url_with_session,
    validate_email,
    validate_id,
    validate_items,
    validate_url,
)
from byway_ecommerce.models import TITLE_MAX, URL_MAX
from byway_ecommerce.open_checkout import Wanted, open_checkout
from byway_ecommerce.operations import (
    BUYER,
    COURSES,
    COURSES_BY_IDS,
    ENROLLMENT_STATUS,
    MY_STUDENT,
    REGISTER_STUDENT,
    STUDENT,
    STUDENTS,
)
from byway_ecommerce.providers import LineItem

_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Buyer:
    """Who pays: the student to enroll, their user (if known) and how to ask teach-internal."""

    student_id: str
    user_id: str | None
    courses_as: CallAs


async def find_buyer(
    ctx: RequestContext, student_id: str | None, course_ids: list[str]
) -> tuple[Buyer, set[str] | None]:
    """The student who buys (see the module docstring, step 2), and, for a user buying for
    themself, which of ``course_ids`` they already own (asked in the same call; None otherwise)."""
    principal = ctx.principal
    if principal.is_user and not (principal.is_admin and student_id):
        # Naming a student (even one's own) is checked before anything about it is asked.
        own, owned = await _own_student(ctx, principal, course_ids if student_id is None else None)
        if student_id is not None and student_id != own["id"]:
            raise Forbidden("You can only check out for your own student account")
        return Buyer(student_id=own["id"], user_id=principal.user_id, courses_as=principal), owned
    if principal.is_anonymous:
        raise Unauthenticated("Log in to check out (only services and admins may check out for a studentId)")
    if student_id is None:
        raise BadUserInput("studentId is required when checking out as a service", field="studentId")
    data = await ctx.client.call(STUDENTS, STUDENT, {"id": student_id}, as_="service")
    student = data.get("student")
    if not student:
        raise NotFound(f"No student with id {student_id}", field="studentId")
    courses_as: CallAs = principal if principal.is_user else "service"
    return Buyer(student_id=str(student["id"]), user_id=student.get("userId"), courses_as=courses_as), None


async def _own_student(
    ctx: RequestContext, principal: Principal, course_ids: list[str] | None
) -> tuple[dict[str, Any], set[str] | None]:
    """The caller's student (registered on their first checkout) and, given ``course_ids``, those
    it owns: ONE call (two on a first checkout, whose new student owns nothing)."""
    owned: set[str] | None = None
    if course_ids is None:
        data = await ctx.client.call(STUDENTS, MY_STUDENT, as_=principal)
    else:
        data = await ctx.client.call(STUDENTS, BUYER, {"courseIds": course_ids}, as_=principal)
        owned = {str(s["courseId"]) for s in data.get("enrollmentStatus") or [] if s.get("enrolled")}
    student = data.get("myStudent")
    if not student:
        data = await ctx.client.call(STUDENTS, REGISTER_STUDENT, {"userId": principal.user_id}, as_=principal)
        student = data.get("registerStudent")
        owned = None if owned is None else set()
    if not student or not student.get("id"):
        raise UpstreamUnavailable("students-internal returned no student for this user")
    return dict(student), owned


async def price_cart(ctx: RequestContext, buyer: Buyer, course_ids: list[str]) -> list[LineItem]:
    """Snapshots of the courses' titles and prices, from ONE teach-internal call."""
    data = await ctx.client.call(COURSES, COURSES_BY_IDS, {"ids": course_ids}, as_=buyer.courses_as)
    courses = data.get("coursesByIds") or []
    if len(courses) != len(course_ids):
        raise UpstreamUnavailable("teach-internal answered coursesByIds with the wrong number of courses")
    lines: list[LineItem] = []
    for course_id, course in zip(course_ids, courses, strict=True):
        if not course or not course.get("published"):
            raise NotFound(f"Course {course_id} does not exist or is not for sale", courseId=course_id)
        price = course.get("priceCents")
        currency = str(course.get("currency") or "").upper()
        if not isinstance(price, int) or price < 0 or not _CURRENCY.match(currency):
            raise UpstreamUnavailable(f"teach-internal returned an invalid price for course {course_id}")
        title = str(course.get("title") or course_id)[:TITLE_MAX]
        lines.append(LineItem(course_id=course_id, title=title, price_cents=price, currency=currency))
    currencies = sorted({line.currency for line in lines})
    if len(currencies) > 1:
        raise BadUserInput(
            f"All courses of a checkout must have one currency; this cart mixes {', '.join(currencies)}",
            field="items",
        )
    if all(line.price_cents == 0 for line in lines):
        raise BadUserInput(
            "These courses are free: enroll with students-internal enrollMe instead of checking out",
            field="items",
        )
    return lines


async def refuse_owned(ctx: RequestContext, buyer: Buyer, lines: list[LineItem], owned: set[str] | None) -> None:
    """ALREADY_ENROLLED for the first course the buyer owns: ``owned`` when the buyer's call already
    told, else from ONE students-internal call."""
    if owned is None:
        ids = [line.course_id for line in lines]
        data = await ctx.client.call(
            STUDENTS, ENROLLMENT_STATUS, {"courseIds": ids, "studentId": buyer.student_id}, as_="service"
        )
        owned = {str(s["courseId"]) for s in data.get("enrollmentStatus") or [] if s.get("enrolled")}
    for line in lines:
        if line.course_id in owned:
            raise AlreadyEnrolled(course_id=line.course_id, course_title=line.title)


async def create_checkout(
    ctx: RequestContext,
    items: Any,
    success_url: Any,
    cancel_url: Any,
    student_id: Any = None,
    email: Any = None,
) -> dict[str, Any]:
    """The ``createCheckout`` mutation: ``{sessionId, url, orderId}``."""
    course_ids = validate_items(items)
    success = success_url_with_session(validate_url(success_url, "successUrl"))
    if len(success) > URL_MAX:
        raise BadUserInput(f"successUrl must be at most {URL_MAX} characters", field="successUrl")
    cancel = validate_url(cancel_url, "cancelUrl")
    email = validate_email(email)
    if student_id is not None:
        student_id = validate_id(student_id, "studentId", "studentId")
    try:
        buyer, owned = await find_buyer(ctx, student_id, course_ids)
        lines = await price_cart(ctx, buyer, course_ids)
        await refuse_owned(ctx, buyer, lines, owned)
    except CrossPluginError as exc:
        raise exc.for_caller(f"{exc.plugin} refused the checkout") from exc

    wanted = Wanted(
        student_id=buyer.student_id,
        user_id=buyer.user_id,
        email=email,
        success_url=success,
        cancel_url=cancel,
        lines=lines,
    )
    return await open_checkout(ctx.plugin, wanted)
