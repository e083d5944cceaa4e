"""On-delete policies across plugin databases: ``restrict``, ``cascade`` and ``set-null``.

No foreign key can span two plugins' databases, so the host applies what the plugins declare.
A :class:`~byway.declarations.Relation` whose ``column`` is given (the SQLAlchemy column of the
source plugin's table that holds the target's ids) takes part:

* The host adds two **service-only** root fields to the *source* plugin's GraphQL schema, built
  from its declarations (:func:`extend_api`); only the target plugin's service may call them:

  - ``bywayRelationCount(relation, ids)``: how many rows hold one of ``ids`` in the relation's
    column (restricted to the relation's ``where`` when it declares one);
  - ``bywayRelationApply(relation, ids)``: applies the relation's policy to those rows, deleting
    them (``cascade``) or setting the column to null (``set-null``); idempotent, and answers how
    many rows it changed.

  ``relation`` is the relation's ``source`` (``plugin.Model.field``).
* The *owner* calls :func:`before_delete` with the ids it is about to delete, by type, before it
  deletes anything. Every ``restrict`` relation is counted first: any reference refuses the
  delete with ``CONFLICT`` and ``extensions.references`` (``[{plugin, type, field, count}]``).
  Then every ``cascade``/``set-null`` relation is applied by its plugin. If a plugin cannot be
  reached or fails, :class:`~byway.errors.UpstreamUnavailable` names it (``extensions.plugin``)
  and the owner must not delete: its rows stay, and running the delete again finishes the work
  (the policies are idempotent).

Relations are those declared by the plugins loaded in this process; a plugin served elsewhere
(``plugin_urls``) must be loaded where its owner runs for its declarations to be applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ariadne import MutationType, QueryType
from graphql import GraphQLResolveInfo, ObjectTypeDefinitionNode, parse
from sqlalchemy import delete, func, select, update

from byway.auth import require_service
from byway.client import CrossPluginError
from byway.declarations import CASCADE, RESTRICT, SET_NULL, GraphQLApi, Relation
from byway.errors import BadUserInput, Conflict, UpstreamUnavailable

if TYPE_CHECKING:
    from byway.context import RequestContext
    from byway.runtime import PluginRuntime

#: Most ids one count or apply call carries (the owner sends more in several calls).
MAX_IDS = 500

COUNT_FIELD = "bywayRelationCount"
APPLY_FIELD = "bywayRelationApply"

COUNT = f"""
query BywayRelationCount($relation: String!, $ids: [ID!]!) {{
  {COUNT_FIELD}(relation: $relation, ids: $ids)
}}
"""
APPLY = f"""
mutation BywayRelationApply($relation: String!, $ids: [ID!]!) {{
  {APPLY_FIELD}(relation: $relation, ids: $ids)
}}
"""

_QUERY_FIELD = f"""
  "Host-provided, service-only (the target plugin's service): rows holding one of ids in a declared relation."
  {COUNT_FIELD}(relation: String!, ids: [ID!]!): Int!
"""
_MUTATION_FIELD = f"""
  "Host-provided, service-only (the target plugin's service): apply a relation's cascade/set-null to ids."
  {APPLY_FIELD}(relation: String!, ids: [ID!]!): Int!
"""


def applied(relations: Sequence[Relation]) -> list[Relation]:
    """The relations the host applies on delete: those that declare their ``column``."""
    return [relation for relation in relations if relation.column is not None]


def _defined_types(type_defs: str | Sequence[str]) -> set[str]:
    sources = [type_defs] if isinstance(type_defs, str) else list(type_defs)
    return {
        definition.name.value
        for source in sources
        for definition in parse(source).definitions
        if isinstance(definition, ObjectTypeDefinitionNode)
    }


def extend_api(plugin: PluginRuntime, api: GraphQLApi | None, relations: Sequence[Relation]) -> GraphQLApi | None:
    """``api`` plus the host's count/apply fields when ``relations`` (the plugin's own) include applied ones."""
    own = {relation.source: relation for relation in applied(relations)}
    if not own:
        return api
    type_defs: list[str] = []
    bindables: list[Any] = []
    if api is not None:
        type_defs = [api.type_defs] if isinstance(api.type_defs, str) else list(api.type_defs)
        bindables = list(api.bindables)
    defined = _defined_types(type_defs) if type_defs else set()
    type_defs.append(("extend type Query {" if "Query" in defined else "type Query {") + _QUERY_FIELD + "}")
    type_defs.append(("extend type Mutation {" if "Mutation" in defined else "type Mutation {") + _MUTATION_FIELD + "}")
    query, mutation = QueryType(), MutationType()

    def relation_of(ctx: RequestContext, name: str, ids: list[str]) -> Relation:
        relation = own.get(name)
        if relation is None:
            raise BadUserInput(f"{plugin.name} declares no applied relation {name!r}", field="relation")
        require_service(ctx.principal, relation.target_plugin)
        if len(ids) > MAX_IDS:
            raise BadUserInput(f"at most {MAX_IDS} ids at a time", field="ids")
        return relation

    @query.field(COUNT_FIELD)
    async def resolve_count(_: Any, info: GraphQLResolveInfo[RequestContext], relation: str, ids: list[str]) -> int:
        ctx = info.context
        declared = relation_of(ctx, relation, ids)
        return await count_references(ctx, declared, ids)

    @mutation.field(APPLY_FIELD)
    async def resolve_apply(_: Any, info: GraphQLResolveInfo[RequestContext], relation: str, ids: list[str]) -> int:
        ctx = info.context
        declared = relation_of(ctx, relation, ids)
        if declared.policy not in (CASCADE, SET_NULL):
            raise BadUserInput(f"{relation} is {declared.policy}: nothing to apply", field="relation")
        return await apply_policy(ctx, declared, ids)

    return GraphQLApi(type_defs, [*bindables, query, mutation])


async def count_references(ctx: RequestContext, relation: Relation, ids: Sequence[str]) -> int:
    """Rows of the source plugin's table whose ``relation.column`` holds one of ``ids``."""
    column = relation.column
    assert column is not None
    if not ids:
        return 0
    stmt = select(func.count()).select_from(column.table).where(column.in_(set(ids)))
    if relation.where is not None:
        stmt = stmt.where(relation.where)
    async with ctx.session() as session:
        return int(await session.scalar(stmt) or 0)


async def apply_policy(ctx: RequestContext, relation: Relation, ids: Sequence[str]) -> int:
    """Delete (cascade) or null (set-null) the rows holding ``ids``; committed; how many changed."""
    column = relation.column
    assert column is not None
    if not ids:
        return 0
    table: Any = column.table
    key = list(table.primary_key.columns) or [column]
    condition = column.in_(set(ids))
    if relation.policy == CASCADE:
        stmt: Any = delete(table).where(condition).returning(*key)
    else:
        stmt = update(table).where(condition).values({column.name: None}).returning(*key)
    async with ctx.session() as session:
        changed = len((await session.execute(stmt)).all())
        await session.commit()
    return changed


def _relations_to(plugin: PluginRuntime, types: Sequence[str]) -> list[Relation]:
    host = plugin.host
    targets = {f"{plugin.name}.{kind}" for kind in types}
    return [
        relation
        for relation in applied(host.relations)
        if relation.target in targets and relation.source_plugin in host.plugins
    ]


def _chunks(ids: Sequence[str]) -> list[list[str]]:
    distinct = sorted(set(ids))
    return [distinct[start : start + MAX_IDS] for start in range(0, len(distinct), MAX_IDS)]


async def _call(plugin: PluginRuntime, relation: Relation, document: str, ids: list[str], what: str) -> int:
    source = relation.source_plugin
    try:
        data = await plugin.client.call(source, document, {"relation": relation.source, "ids": ids}, as_="service")
    except (CrossPluginError, UpstreamUnavailable) as exc:
        raise UpstreamUnavailable(
            f"Could not {what} {relation.source} in {source}: {exc.message}; nothing was deleted",
            plugin=source,
            relation=relation.source,
        ) from exc
    return int(next(iter(data.values())))


async def references(plugin: PluginRuntime, targets: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    """What restricts deleting ``targets`` (type -> ids of ``plugin``): ``[{plugin, type, field, count}]``."""
    found: list[dict[str, Any]] = []
    for relation in _relations_to(plugin, list(targets)):
        if relation.policy != RESTRICT:
            continue
        ids = targets[relation.target.split(".", 1)[1]]
        count = 0
        for chunk in _chunks(ids):
            count += await _call(plugin, relation, COUNT, chunk, "count the references of")
        if count:
            _, model, field = relation.source.split(".", 2)
            found.append({"plugin": relation.source_plugin, "type": model, "field": field, "count": count})
    return found


async def before_delete(plugin: PluginRuntime, targets: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Apply the declared on-delete policies before ``plugin`` deletes ``targets`` (type -> ids).

    Raises :class:`~byway.errors.Conflict` (with ``references``) when a ``restrict`` relation holds
    any of the ids, and :class:`~byway.errors.UpstreamUnavailable` (naming the plugin) when a
    referencing plugin cannot count or apply. Returns the rows changed per relation source.
    Call it outside any open transaction of the owner's, then delete.
    """
    found = await references(plugin, targets)
    if found:
        described = ", ".join(f"{ref['count']} {ref['plugin']} {ref['type']}" for ref in found)
        raise Conflict(f"Cannot delete: still referenced by {described}", references=found)
    changed: dict[str, int] = {}
    for relation in _relations_to(plugin, list(targets)):
        if relation.policy not in (CASCADE, SET_NULL):
            continue
        ids = targets[relation.target.split(".", 1)[1]]
        total = 0
        for chunk in _chunks(ids):
            total += await _call(plugin, relation, APPLY, chunk, f"apply {relation.policy} to")
        changed[relation.source] = total
    return changed
