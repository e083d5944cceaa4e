"""Real people's journeys in headless Chromium (Debian's), driven by Playwright.

Every page visited is checked with axe-core (vendored under ``vendor/axe-core``, injected by the
test, never served by the site): no violation of impact serious or critical is allowed, at
desktop and at phone width; a screenshot of each is saved in ``var/screenshots/storefront/``
(``BYWAY_SCREENSHOTS`` to change it). The browser may fetch nothing but the site itself.

Skipped when ``/usr/bin/chromium`` or Playwright is missing, unless ``BYWAY_TEST_BROWSER=required``
(as in CI).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from storefront_site import School, open_school

from byway.settings import Settings
from byway.testing import CHROMIUM_ARGS, require_browser

ROOT = Path(__file__).resolve().parents[3]
AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
SHOTS = Path(os.environ.get("BYWAY_SCREENSHOTS", ROOT / "var" / "screenshots")) / "storefront"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "a long pass phrase"


class Tour:
    """One browser page that checks and photographs every page it reaches."""

    def __init__(self, page: Any, school: School) -> None:
        self.page = page
        self.school = school
        self.outside: list[tuple[str, str]] = []
        self.checked: list[str] = []

    async def check(self, name: str) -> None:
        """axe-core at desktop and phone width (no serious or critical violation) and a screenshot of each."""
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            await self.page.set_viewport_size(size)
            await self.page.evaluate(AXE)
            result = await self.page.evaluate(
                "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                ".map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))"
            )
            bad = [v for v in result if v["impact"] in ("serious", "critical")]
            assert not bad, f"{name} ({label}, {self.page.url}): {bad}"
            SHOTS.mkdir(parents=True, exist_ok=True)
            await self.page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
        await self.page.set_viewport_size(DESKTOP)
        self.checked.append(name)

    async def goto(self, path: str, name: str | None = None) -> None:
        """Open a page of the site (and check it when named)."""
        await self.page.goto(self.school.base_url + path)
        if name:
            await self.check(name)

    async def text(self, selector: str = "main") -> str:
        return " ".join((await self.page.text_content(selector) or "").split())


@asynccontextmanager
async def browser_for(school: School) -> AsyncIterator[Any]:
    """A headless Debian Chromium whose pages may fetch nothing outside the school."""
    chromium = str(require_browser())
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS))
        try:
            context = await browser.new_context(viewport=DESKTOP)
            context.set_default_timeout(15_000)
            yield context
        finally:
            await browser.close()


async def new_tour(context: Any, school: School) -> Tour:
    page = await context.new_page()
    tour = Tour(page, school)
    origin = school.base_url

    async def guard(route: Any) -> None:
        if route.request.url.startswith(origin) or route.request.url.startswith("data:"):
            await route.continue_()
        else:
            tour.outside.append((route.request.resource_type, route.request.url))
            await route.abort()

    await page.route("**/*", guard)
    return tour


def assert_nothing_fetched_outside(tour: Tour) -> None:
    """Only images and videos a teacher pointed elsewhere may be asked for: no script, style, font or call."""
    assets = [(kind, url) for kind, url in tour.outside if kind not in ("image", "media")]
    assert not assets, assets


@pytest.fixture
async def live_school(byway_settings: Settings) -> AsyncIterator[School]:
    settings = byway_settings.with_overrides(plugins={"storefront": {"poll_seconds": 5}})
    async with open_school(settings, live=True) as school:
        yield school


async def register(tour: Tour, email: str) -> None:
    await tour.goto("/register", "register")
    page = tour.page
    await page.get_by_label("First name").fill("Grace")
    await page.get_by_label("Last name").fill("Hopper")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await page.wait_for_selector("text=We sent you an email")


async def open_mail_link(tour: Tour, email: str, path: str) -> None:
    """Open the dev mailbox like a person and follow the newest link to ``path``."""
    link = tour.page.locator(f"a[href*='{path}?token=']").first
    deadline = time.monotonic() + 20
    while True:  # the email leaves through an outbox job: reload the mailbox until it is there
        await tour.page.goto(f"{tour.school.base_url}/api/notifications/mailbox?to={email}")
        if await link.count():
            break
        assert time.monotonic() < deadline, f"no {path} email for {email} in the mailbox"
        await asyncio.sleep(0.3)
    href = await link.get_attribute("href")
    assert href
    await tour.page.goto(tour.school.base_url + urlsplit(href).path + "?" + urlsplit(href).query)


async def test_a_visitor_learns_for_free_then_buys_a_course(live_school: School) -> None:
    school = live_school
    async with browser_for(school) as context:
        tour = await new_tour(context, school)
        page = tour.page
        await tour.goto("/", "catalog")
        email = f"grace-{uuid.uuid4().hex[:6]}@example.org"
        await register(tour, email)

        # Verify the address from the dev mailbox.
        await open_mail_link(tour, email, "/verify-email")
        await tour.check("verify-email")
        await page.get_by_role("button", name="Verify my email address").click()
        await page.wait_for_selector("text=your email address is verified")

        # Search, open the free course, enroll, take every lesson.
        await page.get_by_label("Search courses").fill("Python")
        await page.get_by_role("button", name="Search").click()
        await page.wait_for_selector("#result-count")
        await tour.check("search")
        await page.get_by_role("link", name="Python from Zero").click()
        await tour.check("course")
        await page.get_by_role("button", name="Enroll for free").click()
        await page.wait_for_selector("text=You are enrolled")
        await tour.check("course-enrolled")
        await page.locator("#action a.button").click()
        await tour.check("lesson")
        while True:
            button = page.locator("form.complete button.primary")
            await button.click()
            await page.wait_for_load_state()
            if "/courses/" in page.url:
                break
        assert "100% complete" in await tour.text("#action")
        await page.get_by_role("link", name="See your certificate").click()
        await tour.check("certificate")
        assert "Grace Hopper" in await tour.text() and "Python from Zero" in await tour.text()
        verify = await page.get_attribute("#verify-link", "href")
        assert verify
        await tour.goto("/my/courses", "my-courses")
        assert "100% complete" in await tour.text()

        # A paid course: its lesson is locked, then bought on the dev provider.
        paid = school.facts["paid_course_id"]
        lessons = await school.gql(
            "teach-internal", "query($id: ID!) { course(id: $id) { modules { lessons { id preview } } } }", {"id": paid}
        )
        modules = lessons["data"]["course"]["modules"]
        locked = next(x["id"] for m in modules for x in m["lessons"] if not x["preview"])
        await tour.goto(f"/lessons/{locked}?course={paid}", "lesson-locked")
        assert "This lesson is locked" in await tour.text()
        await tour.goto(f"/courses/{paid}")
        stale = await new_tour(context, school)  # a second tab, left on the course page
        await stale.goto(f"/courses/{paid}")
        await page.get_by_role("button", name=re.compile("Buy for")).click()
        await page.wait_for_url(re.compile("/dev-checkout/"))
        checkout_url = page.url
        session_id = checkout_url.rstrip("/").rsplit("/", 1)[-1]

        # The success page before the payment: it polls, then explains after poll_seconds.
        await tour.goto(f"/checkout/success?session_id={session_id}", "checkout-pending")
        await page.wait_for_selector("#checkout-late", state="visible", timeout=20_000)
        await tour.check("checkout-late")
        await page.reload()
        # Pay in another tab: this one turns to enrolled by itself (JavaScript polling).
        payer = await new_tour(context, school)
        await payer.page.goto(checkout_url)
        await payer.page.click("#pay")
        await payer.page.wait_for_url(re.compile("/checkout/success"))
        await page.wait_for_selector("#checkout-courses a", timeout=20_000)
        assert "You are enrolled" in await tour.text("h1")
        await tour.check("checkout-success")
        await page.locator("#checkout-courses a").first.click()
        await page.wait_for_url(re.compile(f"/courses/{paid}"))
        await tour.goto(f"/lessons/{locked}?course={paid}", "lesson-unlocked")
        assert "This lesson is locked" not in await tour.text()
        await tour.goto("/my/orders", "my-orders")
        assert "Paid" in await tour.text()

        # The stale tab still offers Buy: a second purchase is a friendly message linking to the course.
        await stale.page.get_by_role("button", name=re.compile("Buy for")).click()
        await stale.page.wait_for_selector("#already-enrolled")
        await stale.check("already-enrolled")
        await stale.page.get_by_role("link", name=re.compile("Go to")).click()
        assert "% complete" in await stale.text("#action")

        await tour.goto(f"/checkout/cancel?course={paid}", "checkout-cancel")
        await tour.goto("/courses/does-not-exist", "not-found")
        for each in (tour, stale, payer):
            assert_nothing_fetched_outside(each)


async def test_a_teacher_builds_and_publishes_a_course(live_school: School) -> None:
    school = live_school
    async with browser_for(school) as context:
        tour = await new_tour(context, school)
        page = tour.page
        email = f"ada-{uuid.uuid4().hex[:6]}@example.org"
        await register(tour, email)
        await tour.goto("/teach", "teach-become")
        await page.get_by_label("About you").fill("I teach sailing knots to beginners.")
        await page.get_by_label("Subjects").fill("Sailing, Knots")
        await page.get_by_role("button", name="Create my teacher profile").click()
        await page.wait_for_selector("#unverified")
        await tour.check("teach-unverified")
        # An admin verifies the profile (through teach's API, as an admin would).
        assert await verify_profile(school, email)
        await tour.goto("/teach", "teach")
        await page.get_by_role("link", name="New course").click()
        await tour.check("teach-new-course")
        title = f"Knots {uuid.uuid4().hex[:6]}"
        await page.get_by_label("Title").fill(title)
        await page.get_by_label("Description").fill("The bowline, the cleat hitch and the splice, step by step.")
        await page.get_by_label("Price").fill("19.00")
        await page.get_by_label("Category").fill("Outdoors")
        await page.get_by_label("Level").select_option("BEGINNER")
        await page.get_by_role("button", name="Create course").click()
        await page.wait_for_selector("text=The course is created")
        for module in ("Basics", "Splices"):
            await page.get_by_label("New module title").fill(module)
            await page.get_by_role("button", name="Add module").click()
            await page.wait_for_selector(f"h3:has-text('{module}')")
        for n, lesson in enumerate(("Bowline", "Cleat hitch"), start=1):
            await page.fill("#lesson-title-1", lesson)
            await page.fill("#lesson-content-1", f"How to tie the {lesson}.")
            await page.fill("#lesson-duration-1", "3")
            if n == 1:
                await page.check("#lesson-preview-1")
            await page.locator("form.add-lesson").first.get_by_role("button", name="Add lesson").click()
            await page.wait_for_selector(f"a:has-text('{lesson}')")
        await page.fill("#lesson-title-2", "Eye splice")
        await page.select_option("#lesson-type-2", "VIDEO")
        await page.locator("form.add-lesson").nth(1).get_by_role("button", name="Add lesson").click()
        await page.wait_for_selector("a:has-text('Eye splice')")
        await page.get_by_role("button", name="Move lesson Cleat hitch up").click()
        await page.wait_for_load_state()
        await tour.check("teach-edit-course")
        await page.get_by_role("link", name="Eye splice").click()
        await tour.check("teach-edit-lesson")
        await page.get_by_label("Content").fill("Unlay the rope, tuck each strand.")
        await page.get_by_role("button", name="Save lesson").click()
        await page.wait_for_selector("text=Saved.")
        await page.get_by_role("button", name="Publish").click()
        await page.wait_for_selector("text=it is in the catalog now")
        await tour.goto("/?q=cleat", "catalog-search-new-course")
        assert title in await tour.text()
        await page.get_by_role("link", name=title).click()
        assert "19.00 USD" in await tour.text() or "Edit this course" in await tour.text()
        lessons = [t.strip() for t in await page.locator("#syllabus ~ ol li a, ol.lessons li a").all_text_contents()]
        assert lessons[:2] == ["Cleat hitch", "Bowline"]
        assert_nothing_fetched_outside(tour)


async def verify_profile(school: School, email: str) -> bool:
    """Verify the teacher profile of ``email`` as the demo admin, through teach's API."""
    login = await school.gql(
        "authentication",
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
        {"e": email, "p": PASSWORD},
    )
    token = login["data"]["login"]["token"]
    mine = await school.gql("teach", "query { myTeacherProfile { id } }", token=token)
    profile_id = mine["data"]["myTeacherProfile"]["id"]
    done = await school.gql(
        "teach",
        "mutation($id: ID!) { verifyTeacherProfile(id: $id) { verified } }",
        {"id": profile_id},
        token=school.facts["admin_token"],
    )
    return bool(done["data"]["verifyTeacherProfile"]["verified"])


async def test_forgot_password_then_the_new_one_works(live_school: School) -> None:
    school = live_school
    async with browser_for(school) as context:
        tour = await new_tour(context, school)
        page = tour.page
        email = f"alan-{uuid.uuid4().hex[:6]}@example.org"
        await register(tour, email)
        await tour.goto("/logout", "logout")
        await page.get_by_role("main").get_by_role("button", name="Sign out").click()
        await page.wait_for_selector("text=You are signed out")
        await tour.goto("/login", "login")
        await page.get_by_role("link", name="Forgot your password?").click()
        await tour.check("forgot-password")
        await page.get_by_label("Email address").fill(email)
        await page.get_by_role("button", name="Send me a link").click()
        await page.wait_for_selector("text=we sent it a link")
        await open_mail_link(tour, email, "/reset-password")
        await tour.check("reset-password")
        await page.get_by_label("New password", exact=True).fill("a brand new phrase")
        await page.get_by_label("New password again").fill("a brand new phrase")
        await page.get_by_role("button", name="Change password and sign in").click()
        await page.wait_for_selector("text=Your password is changed")
        await page.get_by_role("button", name="Sign out").first.click()
        await page.wait_for_selector("text=You are signed out")
        await tour.goto("/login")
        await page.get_by_label("Email address").fill(email)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_selector("#form-errors")
        await tour.check("login-error")
        await page.get_by_label("Email address").fill(email)
        await page.get_by_label("Password").fill("a brand new phrase")
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_selector("text=You are signed in")
        # The certificate page a stranger opens from a shared link.
        await tour.goto("/certificates/unknown-code", "certificate-public")
        assert_nothing_fetched_outside(tour)
