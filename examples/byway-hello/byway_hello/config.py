"""``hello``'s settings: ``[plugin.hello]`` in ``config/byway.toml`` or ``BYWAY_HELLO_<KEY>``."""

from dataclasses import dataclass

import byway


@dataclass(frozen=True)
class HelloConfig:
    """Every setting of ``hello``, with its default."""

    greeting: str = "Hello"


def _load(plugin: byway.PluginRuntime) -> HelloConfig:
    return byway.load_plugin_config(HelloConfig, plugin)


def config_of(plugin: byway.PluginRuntime) -> HelloConfig:
    """The plugin's settings, parsed once per runtime."""
    return plugin.slot(_load)
