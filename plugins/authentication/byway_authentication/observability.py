"""authentication's metrics: failed logins by reason, requests refused by a rate limit.

``byway_authentication_login_failures_total{reason}`` (``bad_credentials``, ``rate_limited``) and
``byway_authentication_rate_limited_total{action}`` (``login``, ``email``, ``token``). Counted
when the refusal is made; no email, address or password is ever a label.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from byway.metrics import plugin_of
from byway.runtime import PluginRuntime


def login_failed(plugin: PluginRuntime, reason: str) -> None:
    """One refused login (``bad_credentials`` or ``rate_limited``)."""
    plugin.metrics.counter("login_failures_total", "Refused logins by reason", ["reason"]).labels(reason).inc()


def rate_limited(session: AsyncSession, action: str) -> None:
    """One request refused by a rate limit (``login``, ``email``, ``token``); the plugin is the session's."""
    plugin = plugin_of(session)
    if plugin is not None:
        plugin.metrics.counter("rate_limited_total", "Requests refused by a rate limit", ["action"]).labels(
            action
        ).inc()
