"""``byway new-plugin NAME``: write a complete third-party plugin distribution from the template.

The files under ``template/`` (package data, each ending in ``.tmpl``) are copied with their
``{{placeholders}}`` filled in; ``package/`` becomes the plugin's package. The result follows the
plugin template of the docs: it installs with ``pip install -e``, and its tests, ruff and
``mypy --strict`` pass untouched.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from byway.declarations import PLUGIN_NAME

SUFFIX = ".tmpl"
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


class NewPluginError(ValueError):
    """The plugin cannot be written (bad name, or its directory exists)."""


@dataclass(frozen=True)
class PluginNames:
    """Every name the template needs, derived from the plugin name (``course-notes``)."""

    name: str

    @property
    def values(self) -> dict[str, str]:
        """Placeholder -> text."""
        words = self.name.split("-")
        camel = "".join(w.capitalize() for w in words)
        snake = "_".join(words)
        return {
            "name": self.name,  # course-notes: plugin name, mount path, database, entry point
            "dist": f"byway-{self.name}",  # distribution
            "package": f"byway_{snake}",  # import package
            "table": f"{snake}_entries",
            "Type": f"{camel}Entry",  # GraphQL type; the mutation is add<Type>
            "lower": f"{camel[0].lower()}{camel[1:]}Entry",
            "entries": f"{camel[0].lower()}{camel[1:]}Entries",  # the list query
            "revision": uuid.uuid4().hex[:12],
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        }


def _fill(text: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def _walk(node: Traversable, relative: Path) -> list[tuple[Path, Traversable]]:
    found: list[tuple[Path, Traversable]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.is_dir():
            if child.name != "__pycache__":
                found.extend(_walk(child, relative / child.name))
        elif child.name.endswith(SUFFIX):
            found.append((relative / child.name.removesuffix(SUFFIX), child))
    return found


def write_plugin(name: str, directory: str | Path = ".") -> Path:
    """Write the distribution of plugin ``name`` to ``directory/name``; returns that path.

    Raises:
        NewPluginError: the name is not a valid plugin name, or the target exists.
    """
    if not PLUGIN_NAME.match(name):
        raise NewPluginError(
            f"invalid plugin name {name!r}: use lower-case words joined by '-', e.g. 'reviews' or 'course-notes'"
        )
    target = Path(directory) / name
    if target.exists():
        raise NewPluginError(f"{target} already exists: choose another --dir or remove it")
    values = PluginNames(name).values
    template = resources.files("byway.new_plugin").joinpath("template")
    for relative, source in _walk(template, Path()):
        parts = [values["package"] if part == "package" else _fill(part, values) for part in relative.parts]
        path = target.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_fill(source.read_text(encoding="utf-8"), values), encoding="utf-8")
    return target
