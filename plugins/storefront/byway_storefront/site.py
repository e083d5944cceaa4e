"""What every page shares: templates, the visit (session + calls), forms, errors and headers."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from byway.client import CrossPluginError
from byway.errors import ByWayError, UpstreamUnavailable
from byway.runtime import PluginRuntime
from byway.web import PayloadTooLarge, read_body
from byway_storefront.config import StorefrontConfig, config_of, secure_cookies
from byway_storefront.session import Session, load_session

log = logging.getLogger("byway.plugins.storefront")

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
#: Where the plugin serves its CSS and JavaScript.
ASSETS_PATH = "/assets"
#: Largest form body accepted (lesson content is the biggest field).
MAX_FORM_BYTES = 256 * 1024


def _asset_versions() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:12] for p in STATIC_DIR.iterdir() if p.is_file()}


LEVELS = {"BEGINNER": "Beginner", "INTERMEDIATE": "Intermediate", "ADVANCED": "Advanced"}
ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"})


def money(cents: int | None, currency: str | None) -> str:
    """``4900, "USD"`` → ``"49.00 USD"``; 0 → ``"Free"``."""
    if not cents:
        return "Free"
    code = (currency or "USD").upper()
    if code in ZERO_DECIMAL:
        return f"{cents} {code}"
    return f"{cents // 100}.{cents % 100:02d} {code}"


def minutes(seconds: int | None) -> str:
    """A lesson duration for people: ``"5 min"`` (empty when unknown)."""
    if not seconds:
        return ""
    return f"{max(1, round(seconds / 60))} min"


def day(iso: str | None) -> str:
    """An ISO-8601 timestamp as a date for people: ``"30 Nov 2026"``."""
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).strftime("%-d %b %Y")
    except ValueError:
        return iso


_CODE = re.compile(r"`([^`\n]+)`")


def prose(text: str | None) -> Markup:
    """Lesson text as HTML: paragraphs at blank lines, line breaks, `code` in backticks; all else escaped."""
    paragraphs = [p.strip() for p in (text or "").replace("\r\n", "\n").split("\n\n") if p.strip()]
    html = []
    for paragraph in paragraphs:
        escaped = str(escape(paragraph))
        html.append("<p>" + _CODE.sub(r"<code>\1</code>", escaped).replace("\n", "<br>") + "</p>")
    return Markup("\n".join(html))


def build_environment() -> Environment:
    """The Jinja2 environment: autoescaped HTML templates shipped in the package."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    versions = _asset_versions()
    env.globals["asset"] = lambda name: f"{ASSETS_PATH}/{name}?v={versions.get(name, '0')}"
    env.filters["money"] = money
    env.filters["minutes"] = minutes
    env.filters["day"] = day
    env.filters["prose"] = prose
    env.filters["zip_levels"] = lambda values: [(v, LEVELS.get(v, v)) for v in values]
    env.filters["zip_types"] = lambda values: [(v, v.capitalize()) for v in values]
    return env


def security_headers(plugin: PluginRuntime) -> dict[str, str]:
    """Headers on every page: a strict CSP (no inline script or style), no framing, no sniffing."""
    headers = {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: http: data:; "
            "media-src 'self' https: http:; connect-src 'self'; form-action 'self' https: http:; "
            "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cache-Control": "no-store",
    }
    if plugin.settings.is_production or secure_cookies(plugin):
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


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


class Form:
    """A submitted ``application/x-www-form-urlencoded`` form."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs
        self._first: dict[str, str] = {}
        for key, value in pairs:
            self._first.setdefault(key, value)

    def get(self, key: str, default: str = "") -> str:
        """The first value of ``key`` (``default`` when absent)."""
        return self._first.get(key, default)

    def text(self, key: str) -> str:
        """The value of ``key`` with surrounding white space removed."""
        return self.get(key).strip()

    def checked(self, key: str) -> bool:
        """Whether a checkbox was ticked."""
        return key in self._first

    def getlist(self, key: str) -> list[str]:
        """Every value of ``key``, in order."""
        return [v for k, v in self._pairs if k == key]

    def values(self) -> dict[str, str]:
        """Every field's first value (to re-fill a form after an error)."""
        return dict(self._first)


class BadRequest(Exception):
    """A request the storefront cannot read (400)."""


async def read_form(request: Request) -> Form:
    """The request's form; :class:`BadRequest` for another media type, bad encoding or NUL bytes."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise BadRequest("Forms must be sent as application/x-www-form-urlencoded")
    try:
        body = await read_body(request, MAX_FORM_BYTES)
    except PayloadTooLarge as exc:
        raise BadRequest("The form is too large") from exc
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=500, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("The form could not be read") from exc
    if any("\x00" in k or "\x00" in v for k, v in pairs):
        raise BadRequest("The form could not be read")
    return Form(pairs)


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
        """An absolute URL on the origin the browser used (for checkout return addresses)."""
        return str(self.request.base_url).rstrip("/") + path

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
