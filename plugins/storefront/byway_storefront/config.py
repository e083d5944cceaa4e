"""The storefront's settings: ``[plugin.storefront]`` in the TOML file, ``BYWAY_STOREFRONT_<KEY>`` variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any
from weakref import WeakKeyDictionary

from byway.runtime import PluginRuntime
from byway.settings import ConfigurationError


@dataclass(frozen=True)
class StorefrontConfig:
    """Every ``storefront`` setting with its default."""

    #: Courses per catalog page (1..50).
    page_size: int = 12
    #: How long the checkout success page polls ``verifyCheckout`` before it explains what to do.
    poll_seconds: int = 60
    #: Mark the session cookies ``Secure``: ``auto`` (only in production), ``true`` or ``false``.
    cookie_secure: str = "auto"
    #: Refresh the access token when it expires within this many seconds.
    refresh_margin_seconds: int = 30

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> StorefrontConfig:
        """Parse and check the configuration (environment values are strings)."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ConfigurationError(f"[plugin.storefront]: unknown settings {unknown}")
        values: dict[str, Any] = {}
        for name, value in raw.items():
            default = getattr(cls, name)
            try:
                values[name] = int(value) if isinstance(default, int) else str(value).strip().lower()
            except (TypeError, ValueError) as exc:
                raise ConfigurationError(f"storefront {name}: {value!r} is not a number") from exc
        config = cls(**values)
        if not 1 <= config.page_size <= 50:
            raise ConfigurationError("storefront page_size must be between 1 and 50")
        if not 5 <= config.poll_seconds <= 600:
            raise ConfigurationError("storefront poll_seconds must be between 5 and 600")
        if config.cookie_secure not in ("auto", "true", "false"):
            raise ConfigurationError("storefront cookie_secure must be auto, true or false")
        return config


_configs: WeakKeyDictionary[PluginRuntime, StorefrontConfig] = WeakKeyDictionary()


def config_of(plugin: PluginRuntime) -> StorefrontConfig:
    """The storefront's configuration for this runtime (parsed once)."""
    config = _configs.get(plugin)
    if config is None:
        config = _configs[plugin] = StorefrontConfig.from_mapping(plugin.config)
    return config


def secure_cookies(plugin: PluginRuntime) -> bool:
    """Whether cookies carry ``Secure`` (always in production unless told otherwise)."""
    setting = config_of(plugin).cookie_secure
    return plugin.settings.is_production if setting == "auto" else setting == "true"
