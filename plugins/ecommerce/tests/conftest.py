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

from ecommerce_fake_stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from ecommerce_shop import Shop, open_shop

from byway.testing import live_server


@pytest.fixture
async def shop(byway_settings: Settings) -> AsyncIterator[Shop]:
    """A shop on SQLite with the dev payment provider."""
    async with open_shop(byway_settings) as opened:
        yield opened


@pytest.fixture
async def stripe_shop(byway_settings: Settings) -> AsyncIterator[tuple[Shop, FakeStripe]]:
    """A shop on SQLite with the Stripe provider, talking to a fake Stripe server through the real SDK."""
    fake = FakeStripe()
    async with live_server(fake.app) as base_url:
        config = {
            "stripe_secret_key": SECRET_KEY,
            "stripe_webhook_secret": WEBHOOK_SECRET,
            "stripe_api_base": base_url,
            "stripe_max_network_retries": 0,
        }
        async with open_shop(byway_settings, **config) as shop:
            yield shop, fake
