"""Plugin discovery: the pluggy manager, entry points, and loud failures for bad plugins."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pluggy

from byway import hookspecs
from byway.declarations import PluginInfo

ENTRY_POINT_GROUP = "byway.plugins"


class PluginError(RuntimeError):
    """A plugin could not be loaded, or two plugins clash."""


@dataclass(frozen=True)
class LoadedPlugin:
    """A registered plugin object with its identity and where it came from."""

    info: PluginInfo
    obj: Any
    distribution: str
    version: str

    @property
    def name(self) -> str:
        """The plugin's mount name."""
        return self.info.name


def call_own_hook(pm: pluggy.PluginManager, owner: Any, hook: str, **kwargs: Any) -> list[Any]:
    """Call ``owner``'s own implementations of ``hook`` (not other plugins'); one result each.

    Hooks are per plugin: what a plugin returns describes that plugin, so the host calls each
    plugin's implementation and keeps the result with it.
    """
    results = []
    for impl in getattr(pm.hook, hook).get_hookimpls():
        if impl.plugin is owner:
            results.append(impl.function(*[kwargs[a] for a in impl.argnames]))
    return results


def implements(pm: pluggy.PluginManager, owner: Any, hook: str) -> bool:
    """True when ``owner`` has its own implementation of ``hook`` (else the host's conventions apply)."""
    return any(impl.plugin is owner for impl in getattr(pm.hook, hook).get_hookimpls())


def _own_hook_value(pm: pluggy.PluginManager, owner: Any, hook: str, **kwargs: Any) -> Any:
    results = [r for r in call_own_hook(pm, owner, hook, **kwargs) if r is not None]
    return results[0] if results else None


def _distribution_of(ep: importlib.metadata.EntryPoint) -> tuple[str, str]:
    dist = ep.dist
    if dist is None:
        return ("<unknown>", "")
    return (dist.metadata["Name"] or "<unknown>", dist.version)


def _object_distribution(obj: Any) -> tuple[str, str]:
    module = getattr(obj, "__name__", type(obj).__module__)
    return (f"<in-process: {module}>", "")


def build_plugin_manager(
    plugins: Sequence[Any] | None = None,
    *,
    disabled: Iterable[str] = (),
    load_entrypoints: bool = True,
) -> tuple[pluggy.PluginManager, list[LoadedPlugin]]:
    """Build the plugin manager and register every plugin, then ``check_pending()``.

    Args:
        plugins: plugin objects (modules) to register directly, e.g. test-only plugins.
        disabled: plugin names (or entry-point names) to leave out.
        load_entrypoints: also load the ``byway.plugins`` entry-point group. Tests pass False so
            they never depend on whatever happens to be installed.

    Raises:
        PluginError: a plugin failed to import, lacks ``byway_register_plugin``, has a bad name,
            or shares its name with another plugin (the message names both distributions).
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    disabled = set(disabled)
    candidates: list[tuple[Any, str, str, str]] = []  # (object, registration name, dist, version)
    if load_entrypoints:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in disabled:
                continue
            dist, version = _distribution_of(ep)
            try:
                obj = ep.load()
            except Exception as exc:
                raise PluginError(
                    f"plugin {ep.name!r} (distribution {dist}) failed to import: {type(exc).__name__}: {exc}"
                ) from exc
            candidates.append((obj, ep.name, dist, version))
    for obj in plugins or ():
        dist, version = _object_distribution(obj)
        candidates.append((obj, getattr(obj, "__name__", repr(obj)), dist, version))

    loaded: dict[str, LoadedPlugin] = {}
    for obj, reg_name, dist, version in candidates:
        if any(existing.obj is obj for existing in loaded.values()):
            continue
        try:
            pm.register(obj, name=f"{reg_name}:{id(obj)}")
        except Exception as exc:
            raise PluginError(f"plugin {reg_name!r} (distribution {dist}) could not be registered: {exc}") from exc
        try:
            info = _own_hook_value(pm, obj, "byway_register_plugin")
        except Exception as exc:
            raise PluginError(f"plugin {reg_name!r} (distribution {dist}) failed: {exc}") from exc
        if not isinstance(info, PluginInfo):
            raise PluginError(
                f"plugin {reg_name!r} (distribution {dist}) must implement byway_register_plugin() "
                "returning byway.declarations.PluginInfo"
            )
        if info.name in disabled:
            pm.unregister(obj)
            continue
        if info.name in loaded:
            other = loaded[info.name]
            raise PluginError(
                f"two plugins are named {info.name!r} (mount path /api/{info.name}/): "
                f"distribution {other.distribution} and distribution {dist}"
            )
        loaded[info.name] = LoadedPlugin(info=info, obj=obj, distribution=dist, version=version)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"unknown hook implementation: {exc}") from exc
    return pm, list(loaded.values())
