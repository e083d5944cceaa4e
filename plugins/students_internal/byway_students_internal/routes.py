"""REST endpoints of ``students-internal``.

* ``POST /api/students-internal/students`` — body ``{userId, displayName}``: 201 with the new
  student, 200 with the existing one (the caller themself, a service or an admin).
* ``GET /api/students-internal/certificates/<code>`` — public verification of a certificate: JSON
  ``{courseTitle, studentName, issuedAt}``, or a small HTML page when the client prefers HTML
  (a browser); an unknown code is 404. Nothing else about the learner is shown.
"""

from __future__ import annotations

import html
import re

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

import byway
from byway_students_internal import store
from byway_students_internal.access import authorize_registration

#: What a certificate code can look like (anything else cannot be one: 404 without a query).
_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}}
.card{{border:2px solid #2b6cb0;border-radius:12px;padding:2rem}} h1{{color:#2b6cb0}} .muted{{color:#666}}</style>
</head><body><div class="card">{body}</div></body></html>
"""


def wants_html(request: Request) -> bool:
    """True when the client asks for HTML before JSON (a browser's Accept header)."""
    accept = request.headers.get("accept", "").lower()
    if "text/html" not in accept:
        return False
    return "application/json" not in accept or accept.index("text/html") < accept.index("application/json")


def certificate_page(certificate: dict[str, str]) -> str:
    """The verification page of a certificate (every value escaped)."""
    name, title = html.escape(certificate["studentName"]), html.escape(certificate["courseTitle"])
    date = html.escape(certificate["issuedAt"][:10])
    body = (
        "<p class=muted>Byway certificate of completion &mdash; verified</p>"
        f"<h1>{name}</h1><p>completed</p><h2>{title}</h2><p class=muted>on {date}</p>"
    )
    return _PAGE.format(title=f"Certificate: {title}", body=body)


def not_found_page() -> str:
    """The page for an unknown code."""
    return _PAGE.format(
        title="Unknown certificate", body="<h1>Unknown certificate</h1><p>No certificate has this code.</p>"
    )


def build_routes(plugin: byway.PluginRuntime) -> list[BaseRoute]:
    """The plugin's REST routes, closing over its runtime."""

    async def create_student(request: Request) -> Response:
        """Register a student for a user: 201 new, 200 existing (the user, a service or an admin)."""
        principal = plugin.principal_for(request)
        if principal.is_anonymous:
            raise byway.Unauthenticated("You must be logged in")
        body = await byway.read_json(request, plugin.settings.max_body_bytes)
        if not isinstance(body, dict):
            raise byway.BadUserInput("The body must be a JSON object with userId and displayName")
        user_id, name = await authorize_registration(plugin, principal, body.get("userId"), body.get("displayName"))
        async with plugin.sessions() as session:
            student, created = await store.upsert_student(session, user_id, name)
            await session.commit()
        return JSONResponse(student, status_code=201 if created else 200)

    async def verify_certificate(request: Request) -> Response:
        """Public: the certificate with this code (name, course title, date), or 404."""
        code = str(request.path_params["code"])
        certificate = None
        if _CODE.fullmatch(code):
            async with plugin.sessions() as session:
                certificate = await store.certificate_by_code(session, code)
        if certificate is None:
            if wants_html(request):
                return HTMLResponse(not_found_page(), status_code=404)
            raise byway.NotFound("No certificate has this code")
        public = {key: certificate[key] for key in ("courseTitle", "studentName", "issuedAt")}
        if wants_html(request):
            return HTMLResponse(certificate_page(public))
        return JSONResponse({"valid": True, **public})

    return [
        Route("/students", create_student, methods=["POST"]),
        Route("/certificates/{code}", verify_certificate, methods=["GET"]),
    ]
