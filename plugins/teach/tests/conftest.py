"""Fixtures of the teach plugin's tests: an app with teach and authentication loaded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import byway_authentication.plugin as authentication_plugin
import byway_teach.plugin as teach_plugin
import pytest

from byway.settings import Settings
from byway.testing import TestApp, running_app

#: Cheap argon2 parameters for authentication, so the suite stays fast.
FAST_HASHING: dict[str, Any] = {"password_time_cost": 1, "password_memory_kib": 1024, "password_parallelism": 1}
PLUGINS = [teach_plugin, authentication_plugin]


@pytest.fixture
def teach_settings(byway_settings: Settings) -> Settings:
    """Test settings with fast password hashing."""
    return byway_settings.with_overrides(plugins={"authentication": FAST_HASHING})


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
