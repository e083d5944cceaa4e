"""The plugin template's conventions: what the host finds in a plugin's package by name.

A plugin that does not implement a registration hook itself gets the conventional answer from
its package (the package of the module registered as the plugin: ``byway_x.plugin`` ->
``byway_x``; a registered package is its own). An explicit hook always wins.

=============================  ====================================================
hook                           convention
=============================  ====================================================
``byway_register_models``      ``<pkg>.models.metadata``
``byway_register_migrations``  the ``<pkg>/migrations/`` directory
``byway_register_schema``      ``<pkg>/schema.graphql`` + ``<pkg>.resolvers.BINDABLES``
``byway_register_relations``   ``<pkg>.relations.RELATIONS``
``byway_register_operations``  ``<pkg>.operations.OPERATIONS``
``byway_register_demo``        ``<pkg>.demo.DEMO_STEP``
``byway_register_routes``      ``<pkg>.routes.build_routes(plugin)``
=============================  ====================================================

A module that is missing means "nothing of that kind"; a module that exists but lacks the
conventional name fails start-up naming the plugin, the module and the name it should export.
"""

from __future__ import annotations

import importlib
import importlib.util
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from byway.declarations import GraphQLApi

#: ``hook -> (module, exported name)`` for the conventions that read a module attribute.
MODULE_CONVENTIONS: dict[str, tuple[str, str]] = {
    "byway_register_models": ("models", "metadata"),
    "byway_register_relations": ("relations", "RELATIONS"),
    "byway_register_operations": ("operations", "OPERATIONS"),
    "byway_register_demo": ("demo", "DEMO_STEP"),
    "byway_register_routes": ("routes", "build_routes"),
}
#: Every hook the host can answer by convention.
CONVENTION_HOOKS = frozenset({*MODULE_CONVENTIONS, "byway_register_migrations", "byway_register_schema"})


class ConventionError(RuntimeError):
    """A plugin's package has a conventional module without the conventional name in it."""


def package_of(obj: Any) -> types.ModuleType | None:
    """The package a plugin object belongs to, or None (a top-level module or a plain object)."""
    if not isinstance(obj, types.ModuleType):
        return None
    if hasattr(obj, "__path__"):
        return obj
    parent = obj.__name__.rpartition(".")[0]
    if not parent:
        return None
    return importlib.import_module(parent)


def package_dir(package: types.ModuleType) -> Path | None:
    """The directory of a (regular) package on disk."""
    paths = list(getattr(package, "__path__", []))
    return Path(paths[0]) if paths else None


def _submodule(package: types.ModuleType, name: str) -> types.ModuleType | None:
    full = f"{package.__name__}.{name}"
    if importlib.util.find_spec(full) is None:
        return None
    return importlib.import_module(full)


def _export(package: types.ModuleType, module_name: str, attr: str) -> Any:
    module = _submodule(package, module_name)
    if module is None:
        return None
    if not hasattr(module, attr):
        raise ConventionError(f"{module.__name__} must export {attr} (the template's name for it)")
    return getattr(module, attr)


def by_convention(obj: Any, hook: str, **kwargs: Any) -> list[Any]:
    """What ``hook`` answers for a plugin that does not implement it: ``[]`` or ``[result]``.

    ``kwargs`` are the hook's arguments (``plugin`` for ``byway_register_routes``).
    """
    package = package_of(obj)
    if package is None or hook not in CONVENTION_HOOKS:
        return []
    if hook == "byway_register_migrations":
        directory = package_dir(package)
        migrations = directory / "migrations" if directory else None
        return [migrations] if migrations is not None and migrations.is_dir() else []
    if hook == "byway_register_schema":
        return _schema(package)
    module_name, attr = MODULE_CONVENTIONS[hook]
    value = _export(package, module_name, attr)
    if value is None:
        return []
    if hook == "byway_register_routes":
        build: Callable[..., Any] = value
        return [build(kwargs["plugin"])]
    return [value]


def _schema(package: types.ModuleType) -> list[Any]:
    directory = package_dir(package)
    sdl = directory / "schema.graphql" if directory else None
    if sdl is None or not sdl.is_file():
        return []
    bindables = _export(package, "resolvers", "BINDABLES")
    return [GraphQLApi(sdl.read_text(encoding="utf-8"), tuple(bindables or ()))]
