"""Minimal pages for the links in emails when no storefront is installed.

``GET /api/authentication/verify-email?token=...`` and ``GET /api/authentication/reset-password?token=...``
show a form; its POST (form-encoded) does the work. A GET never spends a token, so mail scanners
that follow links cannot use them up.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from byway.errors import ByWayError
from byway.runtime import PluginRuntime
from byway.web import HTTP_STATUS, read_body
from byway_authentication import recovery

MAX_FORM_BYTES = 8192


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} · Byway</title>
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}}
input,button{{font-size:1rem;padding:.4rem;margin:.3rem 0}} .error{{color:#b00}}</style></head>
<body><h1>{html.escape(title)}</h1>{body}</body></html>""",
        status_code=status,
    )


def _form(action: str, token: str, fields: str, button: str, error: str | None = None) -> str:
    problem = f'<p class="error">{html.escape(error)}</p>' if error else ""
    return (
        f'{problem}<form method="post" action="{html.escape(action)}">'
        f'<input type="hidden" name="token" value="{html.escape(token)}">{fields}'
        f"<button type=submit>{html.escape(button)}</button></form>"
    )


async def _form_values(request: Request) -> dict[str, str]:
    raw = await read_body(request, MAX_FORM_BYTES)
    return {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}


PASSWORD_FIELD = (
    '<p><label>New password (at least 10 characters)<br><input type="password" name="password" '
    'required minlength="10" autocomplete="new-password"></label></p>'
)


def build_routes(plugin: PluginRuntime) -> list[BaseRoute]:
    """The two pages."""
    verify_path = f"/api/{plugin.name}/verify-email"
    reset_path = f"/api/{plugin.name}/reset-password"

    async def verify_email(request: Request) -> Response:
        if request.method == "GET":
            token = request.query_params.get("token", "")
            return _page("Confirm your email", _form(verify_path, token, "", "Confirm my email address"))
        try:
            values = await _form_values(request)
            user = await recovery.verify_email(plugin, values.get("token", ""), plugin.client_address(request))
        except ByWayError as exc:
            return _page("Confirm your email", f'<p class="error">{html.escape(exc.message)}</p>', _status(exc))
        return _page("Email confirmed", f"<p>Thank you: {html.escape(user['email'])} is confirmed.</p>")

    async def reset_password(request: Request) -> Response:
        if request.method == "GET":
            token = request.query_params.get("token", "")
            return _page("Choose a new password", _form(reset_path, token, PASSWORD_FIELD, "Set my password"))
        token = ""
        try:
            values = await _form_values(request)
            token = values.get("token", "")
            payload = await recovery.reset_password(
                plugin, token, values.get("password", ""), plugin.client_address(request)
            )
        except ByWayError as exc:
            keep_form = exc.extensions.get("field") == "newPassword"
            body = (
                _form(reset_path, token, PASSWORD_FIELD, "Set my password", exc.message)
                if keep_form
                else f'<p class="error">{html.escape(exc.message)}</p>'
            )
            return _page("Choose a new password", body, _status(exc))
        email = html.escape(payload["user"]["email"])
        return _page("Password changed", f"<p>The password of {email} is changed. You can log in with it now.</p>")

    return [
        Route("/verify-email", verify_email, methods=["GET", "POST"]),
        Route("/reset-password", reset_password, methods=["GET", "POST"]),
    ]


def _status(exc: ByWayError) -> int:
    return HTTP_STATUS.get(exc.code, 400)
