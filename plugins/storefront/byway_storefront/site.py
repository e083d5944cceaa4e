"""What every page shares: the visit (session, form, calls on the visitor's behalf), notices, errors."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from byway import ByWayError, CrossPluginError, PluginRuntime, UpstreamUnavailable
from byway_storefront.config import StorefrontConfig, config_of
from byway_storefront.forms import BadRequest, Form, read_form
from byway_storefront.render import build_environment, security_headers
from byway_storefront.session import Session, load_session

log = logging.getLogger("byway.plugins.storefront")

#: Messages a redirect may ask a page to show (``?notice=<key>``): never text from the URL itself.
NOTICES = {
    "registered": "Welcome! We sent you an email: follow its link to verify your address.",
    "signed-in": "You are signed in.",
    "signed-out": "You are signed out.",
    "enrolled": "You are enrolled. Enjoy the course!",
    "reset-sent": "If an account exists for that address, we sent it a link to choose a new password.",
    "password-reset": "Your password is changed and you are signed in.",
    "verification-sent": "We sent you a new verification email.",
    "email-verified": "Thank you: your email address is verified.",
    "profile-created": "Your teacher profile is created. An admin verifies it before you can publish courses.",
    "course-created": "The course is created. Add modules and lessons, then publish it.",
    "saved": "Saved.",
    "deleted": "Deleted.",
    "published": "The course is published: it is in the catalog now.",
    "unpublished": "The course is unpublished: it is no longer in the catalog.",
    "completed": "Lesson marked complete.",
    "not-completed": "Lesson marked not complete.",
}


class LoginRequired(Exception):
    """The page needs a signed-in visitor: they are sent to ``/login?next=<this page>``."""


@dataclass
class Visit:
    """One request: the visitor's session, the form, and the calls the page makes on their behalf."""

    site: Site
    request: Request
    session: Session
    form: Form = field(default_factory=lambda: Form([]))

    @property
    def plugin(self) -> PluginRuntime:
        """The storefront's runtime."""
        return self.site.plugin

    @property
    def config(self) -> StorefrontConfig:
        """The storefront's settings."""
        return config_of(self.site.plugin)

    def require_user(self) -> None:
        """Refuse anonymous visitors (they are sent to the login page)."""
        if not self.session.signed_in:
            raise LoginRequired

    async def call(self, plugin: str, document: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run an operation on another plugin as the visitor; refusals raise :class:`CrossPluginError`."""
        return await self.plugin.client.call(plugin, document, variables, as_=self.session.principal)

    def url(self, path: str, **query: Any) -> str:
        """A local URL with the non-empty query parameters."""
        params = {k: v for k, v in query.items() if v not in (None, "")}
        return f"{path}?{urlencode(params)}" if params else path

    def absolute(self, path: str) -> str:
        """An absolute URL for checkout return addresses: ``BYWAY_PUBLIC_BASE_URL`` when set (as in
        the emails' links), else the origin the browser used (so its session cookie comes back)."""
        base = self.plugin.settings.public_base_url or str(self.request.base_url)
        return base.rstrip("/") + path

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """A page: the template with the visit's common context."""
        notice = NOTICES.get(self.request.query_params.get("notice", ""))
        html = self.site.env.get_template(template).render(
            visit=self,
            session=self.session,
            csrf=self.session.csrf_token,
            notice=notice,
            path=self.request.url.path,
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def redirect(self, path: str, **query: Any) -> RedirectResponse:
        """303 See Other to a local path (after a POST)."""
        return RedirectResponse(self.url(path, **query), status_code=303)

    def redirect_to(self, url: str) -> RedirectResponse:
        """303 See Other to an address another plugin gave (e.g. the payment page)."""
        return RedirectResponse(url, status_code=303)


def safe_next(value: str | None, default: str = "/") -> str:
    """A local path to go back to after signing in; anything else (``//evil``, ``https://``) is ``default``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 2000:
        return default
    if any(ord(ch) < 32 for ch in value):
        return default
    return value


def error_message(exc: CrossPluginError) -> str:
    """The other plugin's message without its operation prefix."""
    return exc.remote_message


Handler = Callable[[Visit], Awaitable[Response]]


class Site:
    """The storefront of one runtime: its templates and the wrapper every page goes through."""

    def __init__(self, plugin: PluginRuntime) -> None:
        self.plugin = plugin
        self.env = build_environment()

    def page(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a page: session in, CSRF check on POST, errors as pages, cookies and headers out."""

        async def endpoint(request: Request) -> Response:
            started = time.perf_counter()
            try:
                session = await load_session(self.plugin, request)
            except Exception:
                log.exception("could not read the session of %s %s", request.method, request.url.path)
                session = Session(self.plugin, csrf_seed=secrets.token_urlsafe(32), csrf_dirty=True)
            visit = Visit(self, request, session)
            try:
                if request.method == "POST":
                    visit.form = await read_form(request)
                    if not session.csrf_ok(visit.form.get("csrf")):
                        response: Response = self.problem(visit, 403, "expired-form")
                    else:
                        response = await handler(visit)
                else:
                    response = await handler(visit)
            except LoginRequired:
                response = visit.redirect(
                    "/login", next=request.url.path + (f"?{request.url.query}" if request.url.query else "")
                )
            except BadRequest as exc:
                response = self.problem(visit, 400, "bad-request", str(exc))
            except CrossPluginError as exc:
                response = self.refusal(visit, exc)
            except UpstreamUnavailable:
                response = self.problem(visit, 503, "unavailable")
            except ByWayError as exc:
                response = self.problem(visit, 400, "bad-request", exc.message)
            except Exception:
                log.exception("page %s %s failed", request.method, request.url.path)
                response = self.problem(visit, 500, "internal")
            session.write(response)
            for name, value in security_headers(self.plugin).items():
                response.headers.setdefault(name, value)
            response.headers["Server-Timing"] = f"page;dur={(time.perf_counter() - started) * 1000:.1f}"
            return response

        return endpoint

    def refusal(self, visit: Visit, exc: CrossPluginError) -> Response:
        """A refusal no page handled itself, as a page with the right status."""
        if exc.code == "UNAUTHENTICATED":
            visit.session.sign_out()
            return visit.redirect("/login", next=visit.request.url.path)
        if exc.code == "NOT_FOUND":
            return self.problem(visit, 404, "not-found")
        if exc.code == "FORBIDDEN":
            return self.problem(visit, 403, "forbidden", error_message(exc))
        if exc.code == "RATE_LIMITED":
            return self.problem(visit, 429, "rate-limited", retry_after(exc))
        if exc.code == "BAD_USER_INPUT":
            return self.problem(visit, 400, "bad-request", error_message(exc))
        log.warning("page %s: %s", visit.request.url.path, exc)
        return self.problem(visit, 503, "unavailable")

    def problem(self, visit: Visit, status: int, kind: str, detail: str = "") -> HTMLResponse:
        """An error page a person can act on."""
        try:
            return visit.render("problem.html", status=status, kind=kind, detail=detail)
        except Exception:
            log.exception("the error page itself failed")
            return HTMLResponse("<!doctype html><title>Error</title><p>Something went wrong.</p>", status_code=status)


def retry_after(exc: CrossPluginError) -> str:
    """``RATE_LIMITED``'s advice for people: when to try again."""
    seconds = exc.extensions.get("retryAfterSeconds") if isinstance(exc.extensions, dict) else None
    if isinstance(seconds, int | float) and seconds > 0:
        minutes_ = int(seconds) // 60
        return (
            f"Please wait {minutes_} minute(s) and try again."
            if minutes_
            else f"Please wait {int(seconds)} seconds and try again."
        )
    return "Please wait a few minutes and try again."
