"""The learner's own pages: enrolled courses with progress, and certificates."""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import Response

from byway_storefront.operations import CERTIFICATE, MY_COURSES
from byway_storefront.site import Visit


async def my_courses(visit: Visit) -> Response:
    """``/my/courses``: enrolled courses with progress bars and certificate links (one call)."""
    visit.require_user()
    enrollments = (await visit.call("students-internal", MY_COURSES))["myCourses"]
    return visit.render("my_courses.html", enrollments=enrollments)


async def course_certificate(visit: Visit) -> Response:
    """``/courses/<id>/certificate``: the visitor's certificate of a completed course (one call)."""
    visit.require_user()
    course_id = visit.request.path_params["course_id"]
    certificate = (await visit.call("students-internal", CERTIFICATE, {"courseId": course_id}))["certificate"]
    if certificate is None:
        return visit.site.problem(visit, 404, "no-certificate")
    return visit.redirect(f"/certificates/{quote(certificate['code'], safe='')}", course=course_id)


def verification_url(visit: Visit, code: str) -> str:
    """Where anyone can check a certificate: students-internal's public page."""
    base = visit.plugin.settings.plugin_urls.get("students-internal", "").rstrip("/")
    return f"{base}/api/students-internal/certificates/{quote(code, safe='')}"


async def certificate_page(visit: Visit) -> Response:
    """``/certificates/<code>``: a certificate to show or print, linking to its public verification.

    Its holder (arriving from their course, ``?course=<id>``) sees it in full from one call; anyone
    else sees the code and the link to the public verification, which is the proof.
    """
    code = visit.request.path_params["code"]
    course_id = visit.request.query_params.get("course", "").strip()[:64]
    certificate = None
    if course_id and visit.session.signed_in:
        found = (await visit.call("students-internal", CERTIFICATE, {"courseId": course_id}))["certificate"]
        if found is not None and found["code"] == code:
            certificate = found
    return visit.render(
        "certificate.html", code=code, certificate=certificate, verify_url=verification_url(visit, code)
    )
