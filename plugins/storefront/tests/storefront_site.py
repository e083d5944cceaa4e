"""Test helpers: the whole school (every first-party plugin plus the storefront) with the demo data,
and visitors: httpx clients with their own cookies that fill forms as a browser would.
"""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from byway_authentication import plugin as authentication
from byway_ecommerce import plugin as ecommerce
from byway_notifications import plugin as notifications
from byway_storefront import plugin as storefront
from byway_students_internal import plugin as students_internal
from byway_teach import plugin as teach
from byway_teach_internal import plugin as teach_internal
from starlette.applications import Starlette

from byway.app import create_app
from byway.cli import run_demo
from byway.host import Host
from byway.settings import Settings
from byway.testing import default_test_transport, free_port, graphql, live_server, serve_app

PLUGINS = [authentication, teach, teach_internal, students_internal, ecommerce, notifications, storefront]
FAST_HASHING = {"password_time_cost": 1, "password_memory_kib": 1024, "password_parallelism": 1}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class School:
    """A running school: the app, its host, the demo facts, and where it listens."""

    app: Starlette
    host: Host
    facts: dict[str, Any]
    base_url: str
    transport: httpx.AsyncBaseTransport | None = None
    visitors: list[httpx.AsyncClient] = field(default_factory=list)

    def visitor(self) -> Visitor:
        """A new browser-like visitor with an empty cookie jar."""
        client = httpx.AsyncClient(transport=self.transport, base_url=self.base_url, timeout=30)
        self.visitors.append(client)
        return Visitor(client, self)

    async def gql(
        self, plugin: str, query: str, variables: Mapping[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """Call a plugin's API directly (test set-up and checks)."""
        async with httpx.AsyncClient(transport=self.transport, base_url=self.base_url, timeout=30) as client:
            return await graphql(client, plugin, query, variables, token=token)

    async def mailbox(self, to: str) -> str:
        """The dev mailbox page of one address (what a person reads)."""
        async with httpx.AsyncClient(transport=self.transport, base_url=self.base_url, timeout=30) as client:
            response = await client.get("/api/notifications/mailbox", params={"to": to})
            assert response.status_code == 200, response.text
            return response.text

    async def link_in_mail(self, to: str, path: str) -> str:
        """The newest link to ``path`` (e.g. ``/reset-password``) mailed to ``to``, as a local path with its query."""
        # Emails leave through the sending plugin's outbox (a job), so they arrive a moment later.
        pattern = re.compile(r"https?://[^\s\"'<>]+" + re.escape(path) + r"\?token=[A-Za-z0-9_\-.~%]+")
        deadline = time.monotonic() + 20
        while not (links := pattern.findall(html.unescape(await self.mailbox(to)))):
            assert time.monotonic() < deadline, f"no {path} link mailed to {to} within 20 s"
            await asyncio.sleep(0.2)
        parts = urlsplit(links[0])
        return f"{parts.path}?{parts.query}"


@asynccontextmanager
async def open_school(settings: Settings, *, live: bool = False) -> AsyncIterator[School]:
    """Start every plugin with the storefront and seed the demo data.

    ``live`` serves it with uvicorn on a free port (for a real browser); otherwise it runs in
    memory unless ``BYWAY_TEST_TRANSPORT=http``. Cross-plugin calls go over HTTP under
    ``BYWAY_TEST_TRANSPORT=http`` either way.
    """
    transport = default_test_transport()
    # Cheap password hashing: the tests register many people, and argon2's cost is not under test here.
    settings = settings.with_overrides(plugins={"authentication": FAST_HASHING, **settings.plugins})
    if live or transport == "http":
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        app = create_app(settings.with_overrides(self_url=base, transport=transport), PLUGINS)
        async with live_server(app, port):
            school = School(app, app.state.host, {}, base)
            school.facts = await run_demo(school.host, echo=lambda _line: None)
            try:
                yield school
            finally:
                for client in school.visitors:
                    await client.aclose()
    else:
        app = create_app(settings.with_overrides(transport="inprocess", self_url="http://testserver"), PLUGINS)
        async with serve_app(app):
            school = School(app, app.state.host, {}, "http://testserver", httpx.ASGITransport(app=app))
            school.facts = await run_demo(school.host, echo=lambda _line: None)
            try:
                yield school
            finally:
                for client in school.visitors:
                    await client.aclose()


class Visitor:
    """A person with a browser but no JavaScript: follows links, fills forms (with their CSRF token)."""

    def __init__(self, client: httpx.AsyncClient, school: School) -> None:
        self.client = client
        self.school = school
        self.page = ""

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET a page (redirects followed) and remember it."""
        response = await self.client.get(path, follow_redirects=True, **kwargs)
        self.page = response.text
        return response

    @property
    def csrf(self) -> str:
        """The CSRF token of the last page seen."""
        found = CSRF.search(self.page)
        assert found, "the last page has no form"
        return found.group(1)

    async def post(self, path: str, data: Mapping[str, Any] | None = None, *, follow: bool = True) -> httpx.Response:
        """Submit a form of the last page seen to ``path``."""
        form = {"csrf": self.csrf, **(data or {})}
        response = await self.client.post(path, data=form, follow_redirects=follow)
        if follow:
            self.page = response.text
        return response

    async def register(self, email: str, password: str = "correct horse battery", first: str = "Ada") -> httpx.Response:
        """Create an account through ``/register``."""
        await self.get("/register")
        return await self.post(
            "/register", {"email": email, "password": password, "firstName": first, "lastName": "Learner"}
        )

    async def login(self, email: str, password: str) -> httpx.Response:
        """Sign in through ``/login``."""
        await self.get("/login")
        return await self.post("/login", {"email": email, "password": password})

    async def pay(self, checkout_url: str, action: str = "pay") -> httpx.Response:
        """Press Pay (or Cancel) on the dev provider's checkout page, as a person would."""
        page = await self.client.get(checkout_url)
        assert page.status_code == 200, page.text
        token = re.search(r"name='csrf_token' value='([^']+)'", page.text)
        assert token, "the dev checkout page has no CSRF token"
        return await self.client.post(checkout_url, data={"action": action, "csrf_token": token.group(1)})

    def cookie(self, name: str) -> str | None:
        """A cookie the site set in this visitor's jar."""
        return self.client.cookies.get(name)


def session_id_of(url: str) -> str:
    """The ``session_id`` of a checkout return address."""
    return parse_qs(urlsplit(url).query)["session_id"][0]


def text_of(page: str) -> str:
    """A page's text, tags removed and white space collapsed (for assertions on what people read)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
