"""A real browser buys on the dev provider's page: headless Chromium (Debian's) driven by Playwright.

Skipped when ``/usr/bin/chromium`` or Playwright is missing, unless ``BYWAY_TEST_BROWSER=required``.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qs, urlsplit

from byway_ecommerce.models import PAID
from ecommerce_shop import CREATE_CHECKOUT, open_shop
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

import byway
from byway.declarations import PluginInfo
from byway.runtime import PluginRuntime
from byway.settings import Settings
from byway.testing import CHROMIUM_ARGS, require_browser


class ShopFront:
    """A test-only plugin serving the shop's success page at ``/api/shopfront/success``."""

    @byway.hookimpl
    def byway_register_plugin(self) -> PluginInfo:
        return PluginInfo(name="shopfront", description="test-only success page")

    @byway.hookimpl
    def byway_register_routes(self, plugin: PluginRuntime) -> list[Any]:
        async def success(request: Request) -> HTMLResponse:
            session_id = html.escape(request.query_params.get("session_id", ""))
            return HTMLResponse(f"<html><head><title>Thanks</title></head><body id='done'>{session_id}</body></html>")

        return [Route("/success", success, methods=["GET"])]


async def test_buyer_pays_in_a_browser_and_lands_on_the_success_page(byway_settings: Settings) -> None:
    chromium = str(require_browser())
    from playwright.async_api import async_playwright

    async with open_shop(byway_settings, extra_plugins=[ShopFront()], transport="http") as shop:
        base = shop.app.host.settings.self_url
        course = shop.courses.add_course("Browser-bought course", 1234)
        token = shop.user("browser-user")
        body = await shop.app.gql(
            "ecommerce",
            CREATE_CHECKOUT,
            {
                "items": [{"courseId": course}],
                "successUrl": f"{base}/api/shopfront/success",
                "cancelUrl": f"{base}/api/shopfront/cancel",
            },
            token=token,
        )
        checkout = body["data"]["createCheckout"]
        assert checkout["url"].startswith(base)

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS))
            try:
                page = await browser.new_page()
                await page.goto(checkout["url"])
                assert "Browser-bought course" in (await page.text_content("body") or "")
                assert "12.34 USD" in (await page.text_content("#total") or "")
                async with page.expect_navigation(url=f"{base}/api/shopfront/success**"):
                    await page.click("#pay")
                landed = page.url
                assert await page.title() == "Thanks"
                assert (await page.text_content("#done")) == checkout["sessionId"]
            finally:
                await browser.close()

        session_id = parse_qs(urlsplit(landed).query)["session_id"][0]
        assert session_id == checkout["sessionId"]
        verified = await shop.verify(session_id, token=token)
        assert verified["data"]["verifyCheckout"] == {"ok": True, "orderId": checkout["orderId"], "status": PAID}
        enrolled = await shop.app.gql(
            "students-internal", "query($c: ID!) { isEnrolledMe(courseId: $c) }", {"c": course}, token=token
        )
        assert enrolled["data"]["isEnrolledMe"] is True
