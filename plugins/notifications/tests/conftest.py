"""Fixtures of the notifications plugin's tests: a real SMTP server and an app sending to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import byway_notifications.plugin as notifications_plugin
import pytest
from byway_notifications.testing import SmtpSink

from byway.settings import Settings
from byway.testing import TestApp, running_app

#: Fast rounds and retries so the tests see deliveries and back-off within a second.
FAST: dict[str, Any] = {
    "deliver_interval_seconds": 0.05,
    "retry_base_seconds": 0.05,
    "retry_max_seconds": 0.2,
    "smtp_timeout_seconds": 5,
}


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 in this process."""
    with SmtpSink() as sink:
        yield sink


def notifications_settings(settings: Settings, **config: Any) -> Settings:
    """``settings`` with the notifications plugin configured by ``config`` (plus the fast timings)."""
    return settings.with_overrides(plugins={"notifications": {**FAST, **config}})


@pytest.fixture
async def smtp_app(byway_settings: Settings, smtp: SmtpSink, database_url: str) -> AsyncIterator[TestApp]:
    """notifications sending through the test SMTP server, on SQLite and Postgres."""
    settings = notifications_settings(byway_settings.with_overrides(database_url=database_url), smtp_url=smtp.url)
    async with running_app([notifications_plugin], settings) as app:
        yield app


@pytest.fixture
async def dev_app(byway_settings: Settings) -> AsyncIterator[TestApp]:
    """notifications with the default (dev) transport."""
    async with running_app([notifications_plugin], notifications_settings(byway_settings)) as app:
        yield app
