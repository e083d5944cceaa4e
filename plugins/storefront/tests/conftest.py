"""Fixtures of the storefront tests.

The helper module next to this file (``storefront_site``) is imported by name: its directory is
put on ``sys.path`` here (pytest runs in importlib mode; the name is prefixed so it cannot clash
with other plugins' test helpers).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from byway.settings import Settings

sys.path.insert(0, str(Path(__file__).parent))

from storefront_site import School, open_school


@pytest.fixture
async def school(byway_settings: Settings) -> AsyncIterator[School]:
    """The whole school with the demo data, the storefront at ``/`` (SQLite)."""
    async with open_school(byway_settings) as opened:
        yield opened
