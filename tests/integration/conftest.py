"""Cross-plugin integration tests: the real first-party plugins, loaded explicitly.

The world helper is :mod:`byway.testing`'s (the one plugin authors use); this module keeps the
names the integration tests import.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from byway.settings import Settings
from byway.testing import FAST_HASHING, Actor, core_plugins, fast_settings, require_plugin
from byway.testing import World as BaseWorld
from byway.testing import open_world as open_base_world

# Loud: in CI a first-party plugin that cannot be imported fails the run instead of skipping it.
for _module in ("byway_authentication", "byway_teach", "byway_teach_internal", "byway_students_internal"):
    require_plugin(_module)

CORE_PLUGINS = core_plugins()

__all__ = ["CORE_PLUGINS", "FAST_HASHING", "Actor", "World", "fast_settings", "open_world"]


class World(BaseWorld):
    """:class:`byway.testing.World` whose service tokens are ecommerce's unless told otherwise."""

    def service_token(self, plugin: str = "ecommerce") -> str:
        return super().service_token(plugin)


@asynccontextmanager
async def open_world(settings: Settings) -> AsyncIterator[World]:
    """A running app with the four core plugins (fast hashing), for fixtures of any scope."""
    async with open_base_world(settings) as world:
        yield World(world.app)


@pytest.fixture
async def world(byway_settings: Settings) -> AsyncIterator[World]:
    async with open_world(byway_settings) as w:
        yield w
