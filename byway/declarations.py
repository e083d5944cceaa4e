"""The data a plugin returns from its hooks. Plugins return these; the host wires them."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from byway.runtime import PluginRuntime

PLUGIN_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class PluginInfo:
    """A plugin's identity: ``name`` is its mount name (``/api/<name>/graphql``) and database name."""

    name: str
    description: str = ""

    def __post_init__(self) -> None:
        if not PLUGIN_NAME.match(self.name):
            raise ValueError(
                f"invalid plugin name {self.name!r}: use lower-case words joined by '-', e.g. 'teach-internal'"
            )


@dataclass(frozen=True)
class GraphQLApi:
    """A plugin's GraphQL API: SDL type definitions and Ariadne bindables (ObjectType, scalars...)."""

    type_defs: str | Sequence[str]
    bindables: Sequence[Any] = ()


@dataclass(frozen=True)
class Job:
    """Background work the host runs every ``interval_seconds`` while the server is up.

    ``run`` receives the plugin's runtime. An exception is logged and the job runs again at the
    next interval. ``enabled`` lets a plugin switch a job off by configuration.
    """

    name: str
    interval_seconds: float
    run: Callable[[PluginRuntime], Awaitable[Any]]
    enabled: bool = True


@dataclass(frozen=True)
class DemoStep:
    """A plugin's part of ``byway demo``: lower ``order`` runs first.

    ``run(plugin, facts)`` seeds data and returns lines to print; ``facts`` is a dict shared by
    all steps so a later plugin can use what an earlier one created (e.g. user ids). It must be
    idempotent: running the demo twice creates nothing new.
    """

    order: int
    run: Callable[[PluginRuntime, dict[str, Any]], Awaitable[list[str]]]


@dataclass(frozen=True)
class Operation:
    """An operation a plugin sends to another plugin, validated against the target at start-up."""

    target: str
    document: str


@dataclass(frozen=True)
class Relation:
    """A cross-plugin ID field: ``source`` (``plugin.Model.field``) refers to ``target`` (``plugin.Type``).

    ``on_write`` and ``on_delete`` document the rule (``must exist``; ``restrict`` or ``cascade``)
    and ``enforced_by`` names the operations that enforce it; ``byway relations`` prints them and
    start-up fails when the target plugin is not loaded (unless ``optional``).
    """

    source: str
    target: str
    on_write: str = "must exist"
    on_delete: str = "restrict"
    enforced_by: Sequence[str] = field(default_factory=tuple)
    optional: bool = False

    @property
    def source_plugin(self) -> str:
        """The plugin that holds the ID field."""
        return self.source.split(".", 1)[0]

    @property
    def target_plugin(self) -> str:
        """The plugin that owns the referenced object."""
        return self.target.split(".", 1)[0]
