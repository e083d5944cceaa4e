"""A plugin's own settings as a typed, frozen dataclass: :func:`load_plugin_config`."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, TypeVar, get_type_hints

from byway.settings import ConfigurationError, coerce, env_key

if TYPE_CHECKING:
    from byway.runtime import PluginRuntime

C = TypeVar("C")


def load_plugin_config(cls: type[C], plugin: PluginRuntime) -> C:
    """``plugin``'s settings (``[plugin.<name>]`` and ``BYWAY_<P>_<KEY>``) as an instance of ``cls``.

    ``cls`` is a dataclass (frozen, by the template) whose fields are the keys, with defaults for
    optional ones. Each value is converted to its field's real type (``int``, ``float``, ``bool``,
    ``Path``, ``X | None``, ``Literal[...]``, ``tuple[str, ...]``... see
    :func:`byway.settings.coerce`). Parse once per runtime with :meth:`PluginRuntime.slot`::

        @dataclass(frozen=True)
        class ReviewsConfig:
            max_length: int = 2000

        def config_of(plugin: byway.PluginRuntime) -> ReviewsConfig:
            return plugin.slot(_load)

        def _load(plugin: byway.PluginRuntime) -> ReviewsConfig:
            return byway.load_plugin_config(ReviewsConfig, plugin)

    Raises:
        ConfigurationError: naming the plugin and the key, for a value of the wrong type, an
            unknown key (a typo would otherwise be silently ignored) or a missing required one.
    """
    return config_from_mapping(cls, plugin.name, plugin.config)


def config_from_mapping(cls: type[C], plugin: str, raw: dict[str, Any]) -> C:
    """:func:`load_plugin_config` for a plain mapping of raw values (tests, tools)."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"load_plugin_config needs a dataclass, not {cls!r}")
    hints = get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigurationError(
            f"plugin {plugin!r}: unknown setting(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known)) or 'none'})"
        )
    values: dict[str, Any] = {}
    for name, spec in known.items():
        variable = f"BYWAY_{env_key(plugin)}_{name.upper()}"
        what = f"plugin {plugin!r} setting {name!r} ([plugin.{plugin}] {name} or {variable})"
        if name in raw:
            values[name] = coerce(raw[name], hints[name], what)
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise ConfigurationError(f"{what} is required")
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:  # the dataclass's own __post_init__ checks
        raise ConfigurationError(f"plugin {plugin!r}: {exc}") from exc
