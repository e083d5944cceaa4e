"""Fixtures of the authentication plugin's tests: an app with authentication and teach loaded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import byway_authentication.plugin as authentication_plugin
import byway_teach.plugin as teach_plugin
import pytest

from byway.settings import Settings
from byway.testing import TestApp, running_app

#: Cheap argon2 parameters so the suite stays fast; the defaults have their own test.
FAST_HASHING: dict[str, Any] = {"password_time_cost": 1, "password_memory_kib": 1024, "password_parallelism": 1}
PLUGINS = [authentication_plugin, teach_plugin]


@pytest.fixture
def auth_settings(byway_settings: Settings) -> Settings:
    """Test settings with fast password hashing."""
    return byway_settings.with_overrides(plugins={"authentication": FAST_HASHING})


@pytest.fixture
async def app(auth_settings: Settings) -> AsyncIterator[TestApp]:
    """authentication + teach on SQLite."""
    async with running_app(PLUGINS, auth_settings) as test_app:
        yield test_app


@pytest.fixture
async def db_app(auth_settings: Settings, database_url: str) -> AsyncIterator[TestApp]:
    """authentication + teach on SQLite and on Postgres (parametrised)."""
    async with running_app(PLUGINS, auth_settings.with_overrides(database_url=database_url)) as test_app:
        yield test_app
