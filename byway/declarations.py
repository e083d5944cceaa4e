"""The data a plugin returns from its hooks. Plugins return these; the host wires them."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, OperationDefinitionNode, parse, print_ast

if TYPE_CHECKING:
    from sqlalchemy import Column, ColumnElement

    from byway.runtime import PluginRuntime

PLUGIN_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

#: On-delete policies (the first word of :attr:`Relation.on_delete`); see :mod:`byway.cascade`.
RESTRICT = "restrict"
CASCADE = "cascade"
SET_NULL = "set-null"
POLICIES = (RESTRICT, CASCADE, SET_NULL)


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

    ``on_write`` and ``on_delete`` document the rule (``must exist``; ``restrict``, ``cascade`` or ``set-null``)
    and ``enforced_by`` names the operations that enforce it; ``byway relations`` prints them and
    start-up fails when the target plugin is not loaded (unless ``optional``).

    ``held_ids`` and ``exists`` (declared together, or not at all) let ``byway audit`` find
    dangling references (see :func:`byway.relations.audit`):

    * ``held_ids(plugin)`` runs in the source plugin with its runtime and returns the distinct,
      non-null IDs the field holds, reading only the source plugin's own database
      (``async with plugin.sessions() as s``).
    * ``exists`` is a GraphQL document sent to the target plugin as the source plugin's service.
      It takes ``$ids: [ID!]!`` and has a single root field returning a list aligned with
      ``ids``: one entry per id, null where the object does not exist, e.g.
      ``query CoursesExist($ids: [ID!]!) { coursesByIds(ids: $ids) { id } }``. The target must
      accept at least 200 ids per call. The host validates it at start-up like an
      :class:`Operation` of the source plugin.

    On delete (see :mod:`byway.cascade`): the first word of ``on_delete`` is the policy,
    ``restrict``, ``cascade`` or ``set-null`` (the rest is free text for people). When ``column``
    is given (the SQLAlchemy column of the source plugin's table that holds the ids), the host
    applies the policy across databases whenever the target plugin deletes through
    :func:`byway.cascade.before_delete`: ``restrict`` refuses the delete while rows hold the id,
    ``cascade`` deletes those rows, ``set-null`` empties the column (which must be nullable).
    ``where`` (optional, a SQLAlchemy condition on the source plugin's tables) narrows which rows
    count, e.g. only orders that are pending or paid restrict deleting a course. Without
    ``column`` the policy is documentation only.
    """

    source: str
    target: str
    on_write: str = "must exist"
    on_delete: str = "restrict"
    enforced_by: Sequence[str] = field(default_factory=tuple)
    optional: bool = False
    held_ids: Callable[[PluginRuntime], Awaitable[Iterable[str]]] | None = None
    exists: str | None = None
    column: Column[Any] | None = None
    where: ColumnElement[bool] | None = None

    def __post_init__(self) -> None:
        if self.column is not None:
            if self.policy not in POLICIES:
                raise ValueError(
                    f"relation {self.source} -> {self.target}: on_delete must start with one of "
                    f"{', '.join(POLICIES)} when a column is declared, not {self.on_delete!r}"
                )
            if self.policy == SET_NULL and not self.column.nullable:
                raise ValueError(f"relation {self.source} -> {self.target}: set-null needs a nullable column")
        elif self.where is not None:
            raise ValueError(f"relation {self.source} -> {self.target}: where needs a column")
        if (self.held_ids is None) != (self.exists is None):
            raise ValueError(f"relation {self.source} -> {self.target}: declare held_ids and exists together")
        if self.exists is not None:
            problem = exists_document_problem(self.exists)
            if problem:
                raise ValueError(f"relation {self.source} -> {self.target}: exists {problem}")

    @property
    def policy(self) -> str:
        """The on-delete policy: the first word of ``on_delete`` (``restrict``, ``cascade``, ``set-null``)."""
        words = self.on_delete.split()
        return words[0].rstrip(":,;").lower() if words else RESTRICT

    @property
    def target_type(self) -> str:
        """The referenced type, e.g. ``Course`` for ``teach-internal.Course``."""
        return self.target.split(".", 1)[-1]

    @property
    def source_plugin(self) -> str:
        """The plugin that holds the ID field."""
        return self.source.split(".", 1)[0]

    @property
    def target_plugin(self) -> str:
        """The plugin that owns the referenced object."""
        return self.target.split(".", 1)[0]


def exists_document_problem(document: str) -> str | None:
    """What is wrong with a :attr:`Relation.exists` document, or None when its shape is right.

    The shape: one query operation declaring ``$ids: [ID!]!`` with a single root field. Whether
    the target accepts it is checked at start-up against the target's schema.
    """
    try:
        parsed = parse(document)
    except GraphQLError as exc:
        return f"is not valid GraphQL: {exc.message}"
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation.value != "query":
        return "must hold exactly one query"
    operation = operations[0]
    variables = {v.variable.name.value: print_ast(v.type) for v in operation.variable_definitions or ()}
    if variables != {"ids": "[ID!]!"}:
        return "must declare exactly one variable, $ids: [ID!]!"
    if len(operation.selection_set.selections) != 1:
        return "must select exactly one root field"
    return None
