"""Enrolling and buying: free enrollment, checkout, its return pages, and the visitor's orders."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.responses import JSONResponse, Response

from byway import CrossPluginError
from byway_storefront.operations import CREATE_CHECKOUT, ENROLL_ME, MY_ORDERS, VERIFY_CHECKOUT
from byway_storefront.site import Visit


def _course_path(course_id: str) -> str:
    return f"/courses/{quote(course_id, safe='')}"


def already_enrolled(visit: Visit, exc: CrossPluginError) -> Response:
    """``ALREADY_ENROLLED`` as a friendly page linking to the course (409)."""
    course_id = str(exc.extensions.get("courseId") or visit.request.path_params.get("course_id", ""))
    title = str(exc.extensions.get("courseTitle") or "this course")
    return visit.render("already_enrolled.html", status=409, course_id=course_id, title=title)


async def enroll(visit: Visit) -> Response:
    """POST ``/courses/<id>/enroll``: enroll the visitor in a free course (idempotent)."""
    visit.require_user()
    course_id = visit.request.path_params["course_id"]
    try:
        await visit.call("students-internal", ENROLL_ME, {"courseId": course_id})
    except CrossPluginError as exc:
        if exc.code == "ALREADY_ENROLLED":
            return already_enrolled(visit, exc)
        raise
    return visit.redirect(_course_path(course_id), notice="enrolled")


async def buy(visit: Visit) -> Response:
    """POST ``/courses/<id>/buy``: start a checkout and send the visitor to pay."""
    visit.require_user()
    course_id = visit.request.path_params["course_id"]
    variables = {
        "courseId": course_id,
        "successUrl": visit.absolute("/checkout/success"),
        "cancelUrl": visit.absolute(visit.url("/checkout/cancel", course=course_id)),
    }
    try:
        data = await visit.call("ecommerce", CREATE_CHECKOUT, variables)
    except CrossPluginError as exc:
        if exc.code == "ALREADY_ENROLLED":
            return already_enrolled(visit, exc)
        raise
    return visit.redirect_to(data["createCheckout"]["url"])


async def _check(visit: Visit, session_id: str) -> dict[str, Any]:
    """verifyCheckout, plus (once it is ok) the order's courses from myOrders: two calls at most."""
    verdict = (await visit.call("ecommerce", VERIFY_CHECKOUT, {"sessionId": session_id}))["verifyCheckout"]
    courses: list[dict[str, str]] = []
    if verdict["ok"]:
        orders = (await visit.call("ecommerce", MY_ORDERS))["myOrders"]
        order = next((o for o in orders if o["id"] == verdict["orderId"]), None)
        for item in (order or {}).get("items", []):
            courses.append({"id": item["courseId"], "title": item["title"], "url": _course_path(item["courseId"])})
    return {"ok": bool(verdict["ok"]), "status": verdict["status"], "orderId": verdict["orderId"], "courses": courses}


async def checkout_success(visit: Visit) -> Response:
    """``/checkout/success?session_id=``: paid and enrolled yet? The page polls ``/checkout/status`` with JavaScript."""
    visit.require_user()
    session_id = visit.request.query_params.get("session_id", "").strip()[:255]
    if not session_id:
        return visit.site.problem(visit, 404, "not-found")
    state = await _check(visit, session_id)
    return visit.render(
        "success.html",
        state=state,
        session_id=session_id,
        status_url=visit.url("/checkout/status", session_id=session_id),
        refresh_url=visit.url("/checkout/success", session_id=session_id),
        poll_seconds=visit.config.poll_seconds,
    )


async def checkout_status(visit: Visit) -> Response:
    """``/checkout/status?session_id=``: the success page's polling endpoint (JSON, same-origin only)."""
    if not visit.session.signed_in:
        return JSONResponse({"error": "signed out"}, status_code=401)
    session_id = visit.request.query_params.get("session_id", "").strip()[:255]
    if not session_id:
        return JSONResponse({"error": "session_id is required"}, status_code=400)
    try:
        state = await _check(visit, session_id)
    except CrossPluginError as exc:
        status = {"NOT_FOUND": 404, "FORBIDDEN": 403, "UNAUTHENTICATED": 401}.get(exc.code, 503)
        return JSONResponse({"error": exc.code}, status_code=status)
    return JSONResponse(state)


async def checkout_cancel(visit: Visit) -> Response:
    """``/checkout/cancel``: the visitor left the payment page; nothing was charged."""
    course_id = visit.request.query_params.get("course", "").strip()[:64]
    return visit.render("cancel.html", course_url=_course_path(course_id) if course_id else None)


async def my_orders(visit: Visit) -> Response:
    """``/my/orders``: the visitor's orders, newest first (one call)."""
    visit.require_user()
    orders = (await visit.call("ecommerce", MY_ORDERS))["myOrders"]
    return visit.render("my_orders.html", orders=orders)
