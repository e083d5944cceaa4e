"""The storefront's settings: ``[plugin.storefront]`` in the TOML file, ``BYWAY_STOREFRONT_<KEY>`` variables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import byway
from byway.settings import ConfigurationError


@dataclass(frozen=True)
class StorefrontConfig:
    """Every ``storefront`` setting with its default."""

    #: Courses per catalog page (1..50).
    page_size: int = 12
    #: How long the checkout success page polls ``verifyCheckout`` before it explains what to do (5..600).
    poll_seconds: int = 60
    #: Mark the cookies ``Secure`` (and name them ``__Host-...``): ``auto`` (only in production), ``true`` or ``false``.
    cookie_secure: Literal["auto", "true", "false"] = "auto"
    #: Refresh the access token when it expires within this many seconds.
    refresh_margin_seconds: int = 30

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= 50:
            raise ConfigurationError("storefront page_size must be between 1 and 50")
        if not 5 <= self.poll_seconds <= 600:
            raise ConfigurationError("storefront poll_seconds must be between 5 and 600")
        if not 0 <= self.refresh_margin_seconds <= 600:
            raise ConfigurationError("storefront refresh_margin_seconds must be between 0 and 600")


def _load(plugin: byway.PluginRuntime) -> StorefrontConfig:
    return byway.load_plugin_config(StorefrontConfig, plugin)


def config_of(plugin: byway.PluginRuntime) -> StorefrontConfig:
    """The storefront's configuration for this runtime (parsed once)."""
    return plugin.slot(_load)


def secure_cookies(plugin: byway.PluginRuntime) -> bool:
    """Whether cookies carry ``Secure`` (always in production unless told otherwise)."""
    setting = config_of(plugin).cookie_secure
    return plugin.settings.is_production if setting == "auto" else setting == "true"
