"""``dangling``: declares a relation to a plugin that is never loaded (``ghost``), so start-up must fail."""

from __future__ import annotations

import byway
from byway.declarations import PluginInfo, Relation


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    return PluginInfo(name="dangling")


@byway.hookimpl
def byway_register_relations() -> list[Relation]:
    return [Relation("dangling.Haunting.ghostId", "ghost.Ghost", enforced_by=("dangling.haunt",))]
