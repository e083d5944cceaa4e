"""Pages at the site root (``byway_register_pages``): served after the API, never over it."""

from __future__ import annotations

import pytest

import tests.plugins.notes as notes
from byway.app import create_app
from byway.plugins import PluginError
from byway.settings import Settings
from byway.testing import serve_app
from tests.plugins.pages import Pages


async def test_nothing_is_served_at_the_root_without_a_pages_plugin(byway_settings: Settings) -> None:
    async with serve_app(create_app(byway_settings, [notes])) as client:
        assert (await client.get("/")).status_code == 404


async def test_a_plugin_serves_pages_at_the_root_beside_the_apis(byway_settings: Settings) -> None:
    async with serve_app(create_app(byway_settings, [notes, Pages()])) as client:
        root = await client.get("/")
        assert root.status_code == 200 and root.text == "<p>pages at /</p>"
        assert (await client.get("/about")).text == "<p>pages at /about</p>"
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/api/notes/graphql")).status_code == 200  # the playground is still there
        assert (await client.get("/nowhere")).status_code == 404


RESERVED = ["/api/notes/graphql", "/api/x", "/api", "/healthz", "/readyz", "/metrics", "/_byway/static/x"]


@pytest.mark.parametrize("path", RESERVED)
def test_a_page_on_a_reserved_path_fails_start_up(byway_settings: Settings, path: str) -> None:
    with pytest.raises(PluginError, match="reserves"):
        create_app(byway_settings, [notes, Pages(paths=(path,))])


def test_two_plugins_claiming_one_page_fail_start_up_naming_both(byway_settings: Settings) -> None:
    with pytest.raises(PluginError, match="'one' and 'two' both claim the page '/'"):
        create_app(byway_settings, [Pages("one", ("/",)), Pages("two", ("/",))])
