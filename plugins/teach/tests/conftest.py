"""Fixtures of the teach plugin's tests: an app with teach and authentication loaded."""

from __future__ import annotations

from collections.abc import AsyncIterator

import byway_authentication.plugin as authentication_plugin
import byway_teach.plugin as teach_plugin
import pytest

from byway.settings import Settings
from byway.testing import TestApp, fast_settings, running_app

PLUGINS = [teach_plugin, authentication_plugin]


@pytest.fixture
def teach_settings(byway_settings: Settings) -> Settings:
    """Test settings with fast password hashing."""
    return fast_settings(byway_settings)


@pytest.fixture
async def app(teach_settings: Settings) -> AsyncIterator[TestApp]:
    """teach + authentication on SQLite."""
    async with running_app(PLUGINS, teach_settings) as test_app:
        yield test_app


@pytest.fixture
async def db_app(teach_settings: Settings, database_url: str) -> AsyncIterator[TestApp]:
    """teach + authentication on SQLite and on Postgres (parametrised)."""
    async with running_app(PLUGINS, teach_settings.with_overrides(database_url=database_url)) as test_app:
        yield test_app
