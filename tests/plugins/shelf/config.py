"""``shelf``'s settings, parsed once per runtime."""

from dataclasses import dataclass
from typing import Literal

import byway


@dataclass(frozen=True)
class ShelfConfig:
    capacity: int = 3
    label: str = "shelf"
    mode: Literal["strict", "lax"] = "strict"


class Counter:
    """Per-runtime state with an ``aclose`` the host calls at shut-down."""

    instances: list["Counter"] = []

    def __init__(self, plugin: byway.PluginRuntime) -> None:
        self.plugin_name = plugin.name
        self.count = 0
        self.closed = False
        Counter.instances.append(self)

    async def aclose(self) -> None:
        self.closed = True


def _load(plugin: byway.PluginRuntime) -> ShelfConfig:
    return byway.load_plugin_config(ShelfConfig, plugin)


def config_of(plugin: byway.PluginRuntime) -> ShelfConfig:
    return plugin.slot(_load)
