"""``relations.audit``: find cross-plugin references whose target no longer exists.

Each plugin keeps its own database, so no foreign key guards an ID one plugin holds for another's
object. For every declared :class:`~byway.declarations.Relation` with ``held_ids`` and ``exists``,
the audit asks the source plugin which IDs it holds (its own database) and the target plugin,
through its API and as the source plugin's service, which of them exist, a chunk at a time. It
never reads another plugin's database, so it works whether the target runs in this process or
behind its own URL. ``byway audit`` prints the result.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import FieldNode, OperationDefinitionNode, parse

from byway.client import CrossPluginError
from byway.declarations import Relation
from byway.errors import INTERNAL, UpstreamUnavailable

if TYPE_CHECKING:
    from byway.host import Host

log = logging.getLogger("byway.relations")

#: Why a relation was not checked.
TARGET_NOT_LOADED = "target not loaded"
SOURCE_NOT_LOADED = "source not loaded"
NO_AUDIT = "no audit declared"
#: Existence lookups answer at most this many ids per call.
MAX_CHUNK = 500
#: The error code of an ``exists`` answer that is not a list aligned with the ids sent.
INVALID_RESPONSE = "INVALID_RESPONSE"


@dataclass
class RelationReport:
    """The audit of one relation.

    ``checked`` counts the distinct IDs whose existence was decided, ``dangling`` lists (sorted) those
    the target does not have, ``skipped`` says why nothing was checked (``"target not loaded"``,
    ``"no audit declared"``), and ``error`` why the check stopped early (``"CODE: message"``).
    """

    relation: Relation
    checked: int = 0
    dangling: list[str] = field(default_factory=list)
    skipped: str | None = None
    error: str | None = None

    @property
    def clean(self) -> bool:
        """True when nothing dangles and nothing went wrong (a skipped relation is clean)."""
        return not self.dangling and self.error is None

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready dict."""
        return {
            "source": self.relation.source,
            "target": self.relation.target,
            "checked": self.checked,
            "dangling": list(self.dangling),
            "skipped": self.skipped,
            "error": self.error,
        }


async def audit(host: Host, *, chunk: int = 200) -> list[RelationReport]:
    """Audit every declared relation of ``host`` (an open host); one report each, in declaration order.

    Args:
        host: the host, with its databases open.
        chunk: how many IDs each existence lookup sends (1 to 500).

    A target that cannot be reached or refuses gives a report with an ``error``, not an exception.
    """
    if not 1 <= chunk <= MAX_CHUNK:
        raise ValueError(f"chunk must be between 1 and {MAX_CHUNK}, not {chunk}")
    return [await audit_relation(host, relation, chunk=chunk) for relation in host.relations]


async def audit_relation(host: Host, relation: Relation, *, chunk: int = 200) -> RelationReport:
    """Audit one relation (see :func:`audit`)."""
    if relation.held_ids is None or relation.exists is None:
        return RelationReport(relation, skipped=NO_AUDIT)
    source = host.plugins.get(relation.source_plugin)
    if source is None:
        return RelationReport(relation, skipped=SOURCE_NOT_LOADED)
    if not host.knows(relation.target_plugin):
        return RelationReport(relation, skipped=TARGET_NOT_LOADED)
    try:
        ids = sorted({str(held) for held in await relation.held_ids(source)})
    except Exception as exc:
        log.exception("%s: held_ids failed", relation.source)
        return RelationReport(relation, error=f"{INTERNAL}: {relation.source}: held_ids failed: {type(exc).__name__}")
    dangling: list[str] = []
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        try:
            data = await source.client.call(relation.target_plugin, relation.exists, {"ids": part}, as_="service")
        except (CrossPluginError, UpstreamUnavailable) as exc:
            return RelationReport(relation, checked=start, dangling=dangling, error=f"{exc.code}: {exc.message}")
        entries = _aligned(data, len(part))
        if entries is None:
            message = f"{relation.target_plugin} did not answer one entry per id"
            return RelationReport(relation, checked=start, dangling=dangling, error=f"{INVALID_RESPONSE}: {message}")
        dangling.extend(held for held, entry in zip(part, entries, strict=True) if entry is None)
    return RelationReport(relation, checked=len(ids), dangling=dangling)


def _aligned(data: Mapping[str, Any], size: int) -> list[Any] | None:
    """The single root field's list when it has ``size`` entries, else None."""
    if len(data) != 1:
        return None
    entries = next(iter(data.values()))
    return entries if isinstance(entries, list) and len(entries) == size else None


def lookup_name(relation: Relation) -> str | None:
    """``target-plugin.rootField`` of the relation's existence lookup (None when it has none)."""
    if relation.exists is None:
        return None
    for definition in parse(relation.exists).definitions:
        if isinstance(definition, OperationDefinitionNode):
            root = definition.selection_set.selections[0]
            if isinstance(root, FieldNode):
                return f"{relation.target_plugin}.{root.name.value}"
    return None


def _node(name: str) -> str:
    """A mermaid node id for ``plugin.Type`` (letters, digits and underscores only)."""
    return "".join(ch if ch.isalnum() else "_" for ch in name)


def mermaid(declared: Sequence[Relation]) -> str:
    """The relations as a mermaid flowchart: one box per plugin, one arrow per relation.

    Each arrow goes from the holding type to the referenced type and is labelled with the field
    and the on-delete policy (``applied`` when the host applies it across databases).
    """
    types: dict[str, set[str]] = {}
    for relation in declared:
        model = relation.source.rsplit(".", 1)[0]
        for name in (model, relation.target):
            plugin, _, kind = name.partition(".")
            types.setdefault(plugin, set()).add(kind)
    lines = ["flowchart LR"]
    for plugin in sorted(types):
        lines.append(f'  subgraph {_node(plugin)}["{plugin}"]')
        lines.extend(f'    {_node(plugin + "." + kind)}["{kind}"]' for kind in sorted(types[plugin]))
        lines.append("  end")
    for relation in declared:
        model, field_name = relation.source.rsplit(".", 1)
        how = relation.policy + (", applied" if relation.column is not None else "")
        lines.append(f'  {_node(model)} -- "{field_name}: {how}" --> {_node(relation.target)}')
    return "\n".join(lines) + "\n"
