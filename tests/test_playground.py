"""The GraphiQL playground: served with its assets by the app, and working in a real browser offline.

The browser test drives Debian's headless Chromium with Playwright, with every request that leaves
the app refused, so it proves the playground needs no CDN. It is skipped when Chromium or
Playwright is missing, unless ``BYWAY_TEST_BROWSER=required``.
"""

from __future__ import annotations

import re

import tests.plugins.notes as notes
from byway.playground import STATIC_PATH, playground_html
from byway.settings import Settings
from byway.testing import CHROMIUM_ARGS, TestApp, require_browser, running_app


def test_page_loads_only_local_assets() -> None:
    page = playground_html("notes", "/api/notes/graphql")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith(f"{STATIC_PATH}/graphiql/") for s in sources)
    assert "https://" not in page and "http://" not in page
    assert '"/api/notes/graphql"' in page


async def test_assets_are_served(byway_settings: Settings) -> None:
    async with running_app([notes], byway_settings, transport="inprocess") as app:
        page = (await app.client.get("/api/notes/graphql")).text
        for source in re.findall(r'(?:src|href)="([^"]+)"', page):
            response = await app.client.get(source)
            assert response.status_code == 200, source
            assert len(response.content) > 1000
        missing = await app.client.get(f"{STATIC_PATH}/graphiql/nope.js")
        assert missing.status_code == 404


async def _run_in_browser(app: TestApp, base_url: str, chromium: str) -> tuple[str, list[str]]:
    from playwright.async_api import Route, async_playwright

    leaked: list[str] = []

    async def only_the_app(route: Route) -> None:
        if route.request.url.startswith(base_url):
            await route.continue_()
        else:
            leaked.append(route.request.url)
            await route.abort()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS))
        try:
            page = await browser.new_page()
            await page.route("**/*", only_the_app)
            await page.goto(f"{base_url}/api/notes/graphql")
            await page.wait_for_selector(".graphiql-container", timeout=20_000)
            await page.click(".graphiql-execute-button")
            # A locator, not wait_for_function: the page's Content-Security-Policy forbids eval.
            await page.locator(".result-window", has_text="__typename").wait_for(timeout=20_000)
            result = await page.inner_text(".result-window")
        finally:
            await browser.close()
    return result, leaked


async def test_playground_runs_a_query_in_a_browser_without_internet(byway_settings: Settings) -> None:
    chromium = str(require_browser())
    async with running_app([notes], byway_settings, transport="http") as app:
        result, leaked = await _run_in_browser(app, str(app.client.base_url).rstrip("/"), chromium)
    assert '"__typename": "Query"' in result
    assert leaked == []
