"""Fixtures of the ecommerce tests.

The helper modules next to this file (``ecommerce_shop``, ``ecommerce_fakes``,
``ecommerce_fake_stripe``) are imported by name: their directory is put on ``sys.path`` here
(pytest runs in importlib mode, and the names are prefixed so they cannot clash with other
plugins' test helpers).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from byway.settings import Settings

sys.path.insert(0, str(Path(__file__).parent))

from ecommerce_shop import Shop, open_shop


@pytest.fixture
async def shop(byway_settings: Settings) -> AsyncIterator[Shop]:
    """A shop on SQLite with the dev payment provider."""
    async with open_shop(byway_settings) as opened:
        yield opened
