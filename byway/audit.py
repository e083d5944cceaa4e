"""The audit log: who did what, when and from where, kept in the acting plugin's own database.

A plugin that performs admin actions (role changes, refunds, reconciles, ...) adds the table to
its models and records an entry in the same transaction as the action, so the entry commits with
the action or not at all::

    # models.py
    metadata = MetaData()
    audit_log = byway.audit_table(metadata)

    # store.py / resolvers.py
    async with plugin.sessions() as session, session.begin():
        ...  # the action itself
        await byway.record_audit(
            session, audit_log, principal=ctx.principal, action="users.set_role",
            target=user_id, details={"role": "admin"}, client_address=ctx.client_address,
        )

and exposes ``auditLog(first: Int = 50, after: ID): [AuditEntry!]!`` to admins, answered by
:func:`audit_entries`. ``details`` must never hold secrets, tokens or passwords: keys that look
like one are refused (``ValueError``) rather than stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Column, Index, MetaData, String, Table, Text, and_, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from byway.auth import ANONYMOUS, Principal
from byway.db import UTCDateTime, iso_utc, new_id, utcnow

#: The name of the table in every acting plugin's database.
AUDIT_TABLE = "audit_log"
#: ``actor_kind`` of entries recorded by a command-line action (``byway users set-role``...).
CLI_ACTOR = "cli"
#: The most entries :func:`audit_entries` returns at once, and how many when not told.
MAX_PAGE = 200
DEFAULT_PAGE = 50

#: Key fragments that mark a value as a secret: such keys are refused in ``details``.
_SECRET_KEYS = ("password", "secret", "token", "authorization", "api_key", "apikey", "private_key")

_LIMITS = {"actor_kind": 16, "actor_id": 64, "action": 100, "target": 200, "client_address": 64}


def audit_table(metadata: MetaData) -> Table:
    """Define the ``audit_log`` table in ``metadata`` (a plugin's own); returns it.

    Columns: ``id`` (32-char primary key), ``at`` (UTC, indexed), ``actor_kind`` (``user``,
    ``service``, ``anonymous`` or ``cli``), ``actor_id`` (user id, service name, or the CLI user),
    ``action``, ``target``, ``details`` (JSON text) and ``client_address``. The plugin writes a
    migration for it like for any of its tables.
    """
    return Table(
        AUDIT_TABLE,
        metadata,
        Column("id", String(32), primary_key=True),
        Column("at", UTCDateTime(), nullable=False),
        Column("actor_kind", String(16), nullable=False),
        Column("actor_id", String(64), nullable=True),
        Column("action", String(100), nullable=False),
        Column("target", String(200), nullable=True),
        Column("details", Text(), nullable=True),
        Column("client_address", String(64), nullable=True),
        Index(f"ix_{AUDIT_TABLE}_at", "at"),
    )


def _actor(principal: Principal | str) -> tuple[str, str | None]:
    """``(actor_kind, actor_id)`` of a principal, or of a CLI actor given as a string."""
    if isinstance(principal, str):
        return CLI_ACTOR, principal or None
    if principal.is_user:
        return principal.kind, principal.user_id
    if principal.is_service:
        return principal.kind, principal.service
    return ANONYMOUS, None


def _check_details(value: Any, path: str = "details") -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            lowered = str(key).lower()
            if any(fragment in lowered for fragment in _SECRET_KEYS):
                raise ValueError(f"audit {path} must not hold secrets: key {key!r} refused")
            _check_details(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_details(item, f"{path}[{index}]")


def _bounded(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    limit = _LIMITS[name]
    return value if len(value) <= limit else value[: limit - 1] + "…"


async def record_audit(
    session: AsyncSession,
    table: Table,
    *,
    principal: Principal | str,
    action: str,
    target: str | None = None,
    details: Mapping[str, Any] | None = None,
    client_address: str | None = None,
) -> str:
    """Insert one audit entry in ``session``'s transaction (not committed); returns its id.

    Args:
        session: the session of the action being audited: the entry commits with it or not at all.
        table: the plugin's table from :func:`audit_table`.
        principal: who acted: a :class:`~byway.auth.Principal`, or for a command-line action the
            operator's name as a string (``actor_kind`` is then ``cli``).
        action: what was done, e.g. ``users.set_role`` or ``orders.refund``.
        target: what it was done to (an id or email).
        details: JSON-serialisable facts of the action. Never secrets: a key naming a password,
            token or secret raises ``ValueError``.
        client_address: where the request came from (``ctx.client_address``).
    """
    if not action:
        raise ValueError("an audit entry needs an action")
    if details is not None:
        _check_details(details)
    actor_kind, actor_id = _actor(principal)
    entry_id = new_id()
    await session.execute(
        insert(table).values(
            id=entry_id,
            at=utcnow(),
            actor_kind=actor_kind,
            actor_id=_bounded("actor_id", actor_id),
            action=_bounded("action", action),
            target=_bounded("target", target),
            details=None if details is None else json.dumps(details, sort_keys=True, default=str),
            client_address=_bounded("client_address", client_address),
        )
    )
    return entry_id


async def audit_entries(
    session: AsyncSession, table: Table, *, first: int | None = DEFAULT_PAGE, after: str | None = None
) -> list[dict[str, Any]]:
    """Entries newest first, as GraphQL ``AuditEntry`` dicts (camelCase keys, ``at`` in ISO UTC).

    ``first`` is clamped to 0..:data:`MAX_PAGE` (None, as GraphQL's explicit ``first: null``, means
    :data:`DEFAULT_PAGE`); ``after`` is the ``id`` of the last entry seen (an unknown id gives an
    empty page). ``details`` is returned as the stored JSON text.
    """
    first = max(0, min(DEFAULT_PAGE if first is None else int(first), MAX_PAGE))
    if first == 0:
        return []
    query = select(table).order_by(table.c.at.desc(), table.c.id.desc()).limit(first)
    if after is not None:
        anchor = (await session.execute(select(table.c.at, table.c.id).where(table.c.id == after))).first()
        if anchor is None:
            return []
        query = query.where(or_(table.c.at < anchor.at, and_(table.c.at == anchor.at, table.c.id < anchor.id)))
    rows = (await session.execute(query)).mappings().all()
    return [
        {
            "id": row["id"],
            "at": iso_utc(row["at"]),
            "actorKind": row["actor_kind"],
            "actorId": row["actor_id"],
            "action": row["action"],
            "target": row["target"],
            "details": row["details"],
            "clientAddress": row["client_address"],
        }
        for row in rows
    ]
